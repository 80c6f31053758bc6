// TLS fixtures for tests: one CA with a server certificate (127.0.0.1, localhost), a client
// certificate (CN=alice,OU=eng,O=Brook) and a second, untrusted CA with its own client,
// made once per process and written as PEM files into a temporary directory that is
// removed at exit.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CertificateAuthority,
  createCertificateAuthority,
  IssuedCertificate,
  issueCertificate,
} from '../../src/security/certs';

export interface CertFixture {
  dir: string;
  ca: CertificateAuthority;
  server: IssuedCertificate;
  client: IssuedCertificate;
  /** A CA that nothing trusts, and a client certificate it signed with alice's subject. */
  untrustedCa: CertificateAuthority;
  untrustedClient: IssuedCertificate;
  /** File paths of the PEMs above. */
  files: {
    caCert: string;
    caKey: string;
    serverCert: string;
    serverKey: string;
    /** Server key then certificate, for ssl.keystore.location. */
    serverKeystore: string;
    clientCert: string;
    clientKey: string;
    untrustedCaCert: string;
    untrustedClientCert: string;
    untrustedClientKey: string;
  };
}

export const CLIENT_SUBJECT = 'CN=alice,OU=eng,O=Brook';

let cached: CertFixture | undefined;

export function certFixture(): CertFixture {
  if (cached) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-certs-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const ca = createCertificateAuthority({ subject: 'CN=Brook Test CA,O=Brook' });
  const server = issueCertificate(ca, {
    subject: 'CN=localhost,O=Brook',
    kind: 'server',
    hosts: ['127.0.0.1', 'localhost'],
  });
  const client = issueCertificate(ca, { subject: CLIENT_SUBJECT, kind: 'client' });
  const untrustedCa = createCertificateAuthority({ subject: 'CN=Untrusted CA,O=Elsewhere' });
  const untrustedClient = issueCertificate(untrustedCa, { subject: CLIENT_SUBJECT, kind: 'client' });
  const write = (name: string, contents: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, contents, { mode: 0o600 });
    return file;
  };
  cached = {
    dir,
    ca,
    server,
    client,
    untrustedCa,
    untrustedClient,
    files: {
      caCert: write('ca.pem', ca.certPem),
      caKey: write('ca-key.pem', ca.keyPem),
      serverCert: write('broker.pem', server.certPem),
      serverKey: write('broker-key.pem', server.keyPem),
      serverKeystore: write('broker-keystore.pem', server.keyPem + server.certPem),
      clientCert: write('alice.pem', client.certPem),
      clientKey: write('alice-key.pem', client.keyPem),
      untrustedCaCert: write('untrusted-ca.pem', untrustedCa.certPem),
      untrustedClientCert: write('untrusted-alice.pem', untrustedClient.certPem),
      untrustedClientKey: write('untrusted-alice-key.pem', untrustedClient.keyPem),
    },
  };
  return cached;
}
