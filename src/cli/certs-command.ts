// `brook certs`: a development CA, a broker certificate and client certificates as PEM
// files, ready for a TLS listener (ssl.keystore.location / ssl.truststore.location) and
// for clients (kcat ssl.ca.location, kafkajs ssl.ca). Files are written crash-safely
// (temporary file, fsync, then link or rename) and never overwritten without --force.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CertificateAuthority,
  CertificateKeyType,
  createCertificateAuthority,
  issueCertificate,
  loadCertificateAuthority,
  parseSubject,
} from '../security/certs';
import { parseArgs, UsageError } from './args';
import { CliError } from './admin-client';

export const CERTS_HELP = `Usage:
  brook certs --out DIR [--hosts H1,H2,...] [--client NAME ...] [--key-type ec|rsa] [--days N] [--force]

Writes into DIR (created with mode 0700 if missing):
  ca.pem, ca-key.pem                 a certificate authority (reused when both files exist)
  broker.pem, broker-key.pem         the broker's certificate, with --hosts as subjectAltName
  broker-keystore.pem                broker key and certificate in one file (ssl.keystore.location)
  <client>.pem, <client>-key.pem     one client certificate per --client

--hosts defaults to 127.0.0.1,localhost. --client NAME gives the subject CN=NAME,O=Brook;
a full subject such as --client CN=alice,OU=eng,O=Brook is used as given, and the files are
named after its CN. Keys are unencrypted PKCS#8 with mode 0600. --key-type defaults to ec
(P-256); --days is the leaf certificates' lifetime (default 825).

Existing files are kept: the CA is reused, broker files are kept unless --hosts is given,
and an existing client file is an error. --force rewrites everything requested, including
a new CA (which invalidates certificates it signed before).

Broker listener settings for the result:
  listeners=SSL://127.0.0.1:9093
  ssl.keystore.type=PEM
  ssl.keystore.location=DIR/broker-keystore.pem
  ssl.truststore.type=PEM
  ssl.truststore.location=DIR/ca.pem
  ssl.client.auth=required
`;

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RESERVED_NAMES = new Set(['ca', 'ca-key', 'broker', 'broker-key', 'broker-keystore']);
const CLIENTS_MAX = 100;

interface PlannedFile {
  name: string;
  contents: string;
  mode: number;
}

export async function certsCommand(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === 'help') {
    process.stdout.write(CERTS_HELP);
    return 0;
  }
  const { positionals, flags, lists } = parseArgs(argv, ['out', 'hosts', 'key-type', 'days'], ['force'], ['client']);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const out = flags.out;
  if (!out) throw new UsageError('--out DIR is required');
  const force = flags.force === 'true';
  const keyType = (flags['key-type'] ?? 'ec') as CertificateKeyType;
  if (keyType !== 'ec' && keyType !== 'rsa') throw new UsageError(`--key-type: expected ec or rsa, got "${keyType}"`);
  const days = flags.days === undefined ? 825 : Number(flags.days);
  if (!Number.isInteger(days) || days < 1 || days > 36500) {
    throw new UsageError(`--days: expected 1-36500, got "${flags.days}"`);
  }
  const hosts = (flags.hosts ?? '127.0.0.1,localhost')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  if (hosts.length === 0) throw new UsageError('--hosts: expected at least one host name or address');
  if (lists.client.length > CLIENTS_MAX) throw new UsageError(`at most ${CLIENTS_MAX} --client values`);
  const clients = lists.client.map(clientSubject);

  fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  const exists = (name: string) => fs.existsSync(path.join(out, name));
  const planned: PlannedFile[] = [];
  const report: string[] = [];

  let ca: CertificateAuthority;
  if (!force && exists('ca.pem') && exists('ca-key.pem')) {
    try {
      ca = loadCertificateAuthority(
        fs.readFileSync(path.join(out, 'ca.pem'), 'utf8'),
        fs.readFileSync(path.join(out, 'ca-key.pem'), 'utf8'),
      );
    } catch (error) {
      throw new CliError(`cannot reuse the CA in ${out}: ${(error as Error).message}`);
    }
    report.push(`reused   ca.pem (${ca.subject})`);
  } else {
    if (!force && (exists('ca.pem') || exists('ca-key.pem'))) {
      throw new CliError(`${out} holds only one of ca.pem and ca-key.pem; move it away or use --force`);
    }
    ca = createCertificateAuthority({ keyType });
    planned.push({ name: 'ca.pem', contents: ca.certPem, mode: 0o644 });
    planned.push({ name: 'ca-key.pem', contents: ca.keyPem, mode: 0o600 });
  }

  const brokerExists = exists('broker.pem') || exists('broker-key.pem') || exists('broker-keystore.pem');
  if (brokerExists && !force && flags.hosts !== undefined) {
    throw new CliError(`${out} already has broker files; use --force to replace them`);
  }
  if (!brokerExists || force) {
    const broker = issueCertificate(ca, {
      subject: `CN=${hosts[0]},O=Brook`,
      kind: 'server',
      hosts,
      keyType,
      validityDays: days,
    });
    planned.push({ name: 'broker.pem', contents: broker.certPem, mode: 0o644 });
    planned.push({ name: 'broker-key.pem', contents: broker.keyPem, mode: 0o600 });
    planned.push({ name: 'broker-keystore.pem', contents: broker.keyPem + broker.certPem, mode: 0o600 });
  } else report.push('kept     broker.pem');

  for (const { name, subject } of clients) {
    if (!force && (exists(`${name}.pem`) || exists(`${name}-key.pem`))) {
      throw new CliError(`${out} already has ${name}.pem; use --force to replace it`);
    }
    const client = issueCertificate(ca, { subject, kind: 'client', keyType, validityDays: days });
    planned.push({ name: `${name}.pem`, contents: client.certPem, mode: 0o644 });
    planned.push({ name: `${name}-key.pem`, contents: client.keyPem, mode: 0o600 });
  }

  for (const file of planned) {
    writeFileAtomically(path.join(out, file.name), file.contents, file.mode, force);
    report.push(`wrote    ${file.name}`);
  }
  fsyncDirectory(out);
  process.stdout.write(report.join('\n') + '\n');
  return 0;
}

function clientSubject(value: string): { name: string; subject: string } {
  let subject: string;
  let name: string;
  if (value.includes('=')) {
    let attributes;
    try {
      attributes = parseSubject(value);
    } catch (error) {
      throw new UsageError(`--client: ${(error as Error).message}`);
    }
    const cn = attributes.find(([type]) => type === 'CN');
    if (!cn) throw new UsageError(`--client: the subject "${value}" has no CN to name its files`);
    subject = value;
    name = cn[1];
  } else {
    subject = `CN=${value},O=Brook`;
    name = value;
  }
  if (!FILE_NAME.test(name) || RESERVED_NAMES.has(name)) {
    throw new UsageError(`--client: "${name}" cannot be a file name (letters, digits, . _ -; not ca or broker)`);
  }
  return { name, subject };
}

/**
 * Writes a temporary file next to the target, fsyncs it, then links it into place (which
 * fails rather than replace an existing file) or, with replace, renames it over the target.
 * A crash leaves either no file or the complete one, never a torn key.
 */
function writeFileAtomically(target: string, contents: string, mode: number, replace: boolean): void {
  const temporary = `${path.dirname(target)}/.${path.basename(target)}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(temporary, 'wx', mode);
  try {
    fs.writeSync(fd, contents);
    fs.fchmodSync(fd, mode); // open's mode passes through the umask; set it exactly
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (replace) fs.renameSync(temporary, target);
    else {
      fs.linkSync(temporary, target);
      fs.unlinkSync(temporary);
    }
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(`${target} appeared while writing; not replaced (use --force)`);
    }
    throw error;
  }
}

function fsyncDirectory(directory: string): void {
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
