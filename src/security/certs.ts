// Certificate authorities and CA-signed leaf certificates in PEM, made with node:crypto
// alone: keys come from generateKeyPairSync, and a small DER encoder writes the X.509 v3
// structures (RFC 5280) that crypto.sign then signs. Enough for `brook certs`, test
// fixtures and development clusters; production deployments bring their own PKI.

import * as crypto from 'node:crypto';
import { isIP } from 'node:net';

export type CertificateKeyType = 'ec' | 'rsa';

/** What a leaf certificate is for: extKeyUsage serverAuth, clientAuth, or both. */
export type CertificateKind = 'server' | 'client' | 'both';

export interface IssuedCertificate {
  /** The certificate, one PEM block. */
  certPem: string;
  /** The private key, PKCS#8 PEM (encrypted when a passphrase was given). */
  keyPem: string;
  /** The subject in RFC 2253 order, as Kafka prints it ("CN=alice,OU=eng,O=Brook"). */
  subject: string;
  notAfter: Date;
}

/** A CA able to sign: its certificate and its key. */
export interface CertificateAuthority extends IssuedCertificate {
  readonly privateKey: crypto.KeyObject;
  /** The DER of the CA's subject Name, copied into each issued certificate's issuer. */
  readonly subjectNameDer: Buffer;
  /** Written as authorityKeyIdentifier in issued certificates; null for a loaded CA without one. */
  readonly subjectKeyId: Buffer | null;
}

export interface CaOptions {
  /** RFC 2253 subject; default "CN=Brook Development CA,O=Brook". */
  subject?: string;
  /** Default 3650. */
  validityDays?: number;
  /** Default 'ec' (P-256). */
  keyType?: CertificateKeyType;
}

export interface LeafOptions {
  /** RFC 2253 subject, e.g. "CN=alice,OU=eng,O=Brook". */
  subject: string;
  kind: CertificateKind;
  /** DNS names and IP addresses for subjectAltName (servers; optional for clients). */
  hosts?: string[];
  /** Default 825 (the longest lifetime browsers accept for a server certificate). */
  validityDays?: number;
  /** Default 'ec' (P-256). */
  keyType?: CertificateKeyType;
  /** Encrypt the private key PEM (aes-256-cbc) with this passphrase. */
  passphrase?: string;
}

const DAY_MS = 86_400_000;
/** notBefore is set this far back so that a peer with a slightly slow clock accepts it. */
const CLOCK_SKEW_MS = 3_600_000;
/** Bounds a subject string before parsing it. */
const SUBJECT_LENGTH_MAX = 1024;

export function createCertificateAuthority(options: CaOptions = {}): CertificateAuthority {
  const subject = options.subject ?? 'CN=Brook Development CA,O=Brook';
  const { privateKey, publicKey } = generateKey(options.keyType ?? 'ec');
  const subjectNameDer = encodeName(parseSubject(subject));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subjectKeyId = keyIdentifier(spki);
  const extensions = [
    extension(OID.basicConstraints, true, sequence(boolean(true))),
    extension(OID.keyUsage, true, keyUsageBits(KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign | KEY_USAGE.digitalSignature)),
    extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyId)),
  ];
  const { der, notAfter } = signCertificate({
    issuerNameDer: subjectNameDer,
    subjectNameDer,
    spki,
    extensions,
    validityDays: options.validityDays ?? 3650,
    signingKey: privateKey,
  });
  return {
    certPem: toPem('CERTIFICATE', der),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    subject: formatSubject(parseSubject(subject)),
    notAfter,
    privateKey,
    subjectNameDer,
    subjectKeyId,
  };
}

/** A CA from its PEM certificate and key (to issue more certificates later). */
export function loadCertificateAuthority(certPem: string, keyPem: string, passphrase?: string): CertificateAuthority {
  const cert = new crypto.X509Certificate(certPem);
  if (!cert.ca) throw new Error('the certificate is not a CA (basicConstraints cA is not set)');
  const privateKey = crypto.createPrivateKey({ key: keyPem, passphrase });
  if (!cert.checkPrivateKey(privateKey)) throw new Error('the CA key does not match the CA certificate');
  const { subjectNameDer, subjectKeyId } = readCaFields(cert.raw);
  return {
    certPem: cert.toString(),
    keyPem,
    subject: cert.subject.split('\n').reverse().join(','),
    notAfter: new Date(cert.validTo),
    privateKey,
    subjectNameDer,
    subjectKeyId,
  };
}

export function issueCertificate(ca: CertificateAuthority, options: LeafOptions): IssuedCertificate {
  const attributes = parseSubject(options.subject);
  const { privateKey, publicKey } = generateKey(options.keyType ?? 'ec');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const purposes =
    options.kind === 'server'
      ? [OID.serverAuth]
      : options.kind === 'client'
        ? [OID.clientAuth]
        : [OID.serverAuth, OID.clientAuth];
  // ECDSA keys only sign; RSA keys in TLS 1.2 RSA key exchange also encipher.
  const usage = KEY_USAGE.digitalSignature | (privateKey.asymmetricKeyType === 'rsa' ? KEY_USAGE.keyEncipherment : 0);
  const extensions = [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, keyUsageBits(usage)),
    extension(OID.extKeyUsage, false, sequence(...purposes.map(objectIdentifier))),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
  ];
  if (ca.subjectKeyId) {
    extensions.push(extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, ca.subjectKeyId))));
  }
  const hosts = options.hosts ?? [];
  if (hosts.length > 0) extensions.push(extension(OID.subjectAltName, false, sequence(...hosts.map(generalName))));
  const { der, notAfter } = signCertificate({
    issuerNameDer: ca.subjectNameDer,
    subjectNameDer: encodeName(attributes),
    spki,
    extensions,
    validityDays: options.validityDays ?? 825,
    signingKey: ca.privateKey,
  });
  const keyPem = privateKey.export(
    options.passphrase !== undefined
      ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: options.passphrase }
      : { type: 'pkcs8', format: 'pem' },
  ) as string;
  return { certPem: toPem('CERTIFICATE', der), keyPem, subject: formatSubject(attributes), notAfter };
}

// ---- subjects -------------------------------------------------------------------------

/** One attribute of a distinguished name, e.g. ["CN", "alice"]. */
export type DnAttribute = [type: string, value: string];

const ATTRIBUTE_OIDS: Record<string, string> = {
  CN: '2.5.4.3',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
};

/**
 * Parses an RFC 2253 style subject ("CN=alice,OU=eng,O=Brook"; backslash escapes a
 * character) into attributes in the order written. Multi-valued RDNs ("+") are not made.
 */
export function parseSubject(subject: string): DnAttribute[] {
  if (subject.length === 0 || subject.length > SUBJECT_LENGTH_MAX) {
    throw new Error(`a subject must be 1-${SUBJECT_LENGTH_MAX} characters`);
  }
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < subject.length; i++) {
    const ch = subject[i];
    if (ch === '\\' && i + 1 < subject.length) current += subject[++i];
    else if (ch === ',') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((part) => {
    const eq = part.indexOf('=');
    const type = part.slice(0, eq).trim().toUpperCase();
    const value = part.slice(eq + 1).trim();
    if (eq <= 0 || !(type in ATTRIBUTE_OIDS) || value.length === 0) {
      throw new Error(
        `bad subject attribute "${part}" (expected TYPE=value with TYPE one of ${Object.keys(ATTRIBUTE_OIDS).join(', ')})`,
      );
    }
    return [type, value];
  });
}

function formatSubject(attributes: DnAttribute[]): string {
  return attributes.map(([type, value]) => `${type}=${value.replace(/([,+"\\<>;=])/g, '\\$1')}`).join(',');
}

/**
 * RFC 2253 writes the most specific RDN first, while the DER Name lists RDNs from the
 * root down, so "CN=alice,OU=eng,O=Brook" is encoded O, OU, CN.
 */
function encodeName(attributes: DnAttribute[]): Buffer {
  const rdns = [...attributes].reverse().map(([type, value]) => {
    // countryName must be a PrintableString; everything else is UTF8String.
    const encoded = type === 'C' ? tlv(0x13, Buffer.from(value, 'latin1')) : tlv(0x0c, Buffer.from(value, 'utf8'));
    return tlv(0x31, sequence(objectIdentifier(ATTRIBUTE_OIDS[type]), encoded));
  });
  return sequence(...rdns);
}

// ---- certificate assembly -----------------------------------------------------------

interface SignInput {
  issuerNameDer: Buffer;
  subjectNameDer: Buffer;
  spki: Buffer;
  extensions: Buffer[];
  validityDays: number;
  signingKey: crypto.KeyObject;
}

function signCertificate(input: SignInput): { der: Buffer; notAfter: Date } {
  if (!Number.isInteger(input.validityDays) || input.validityDays < 1 || input.validityDays > 36500) {
    throw new Error(`validity must be 1-36500 days, got ${input.validityDays}`);
  }
  const now = Date.now();
  const notBefore = new Date(now - CLOCK_SKEW_MS);
  const notAfter = new Date(now + input.validityDays * DAY_MS);
  const algorithm = signatureAlgorithm(input.signingKey);
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))), // version v3
    integer(serialNumber()),
    algorithm,
    input.issuerNameDer,
    sequence(time(notBefore), time(notAfter)),
    input.subjectNameDer,
    input.spki,
    tlv(0xa3, sequence(...input.extensions)),
  );
  const signature = crypto.sign('sha256', tbs, input.signingKey);
  return { der: sequence(tbs, algorithm, bitString(signature)), notAfter };
}

function signatureAlgorithm(key: crypto.KeyObject): Buffer {
  if (key.asymmetricKeyType === 'ec') return sequence(objectIdentifier(OID.ecdsaWithSha256));
  if (key.asymmetricKeyType === 'rsa') return sequence(objectIdentifier(OID.sha256WithRsa), tlv(0x05, Buffer.alloc(0)));
  throw new Error(`cannot sign certificates with a ${key.asymmetricKeyType} key (expected EC or RSA)`);
}

function generateKey(type: CertificateKeyType): crypto.KeyPairKeyObjectResult {
  return type === 'rsa'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280 allows up to 20). */
function serialNumber(): Buffer {
  const serial = crypto.randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40;
  return serial;
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING's bytes. */
function keyIdentifier(spki: Buffer): Buffer {
  const outer = readTlv(spki, 0);
  const algorithm = readTlv(spki, outer.contentStart);
  const key = readTlv(spki, algorithm.end);
  return crypto
    .createHash('sha1')
    .update(spki.subarray(key.contentStart + 1, key.end))
    .digest();
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(objectIdentifier(oid), boolean(true), octetString(value))
    : sequence(objectIdentifier(oid), octetString(value));
}

function generalName(host: string): Buffer {
  const version = isIP(host);
  if (version === 4) return tlv(0x87, Buffer.from(host.split('.').map(Number)));
  if (version === 6) return tlv(0x87, ipv6Bytes(host));
  if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(host) || host.length > 253) {
    throw new Error(`bad host name "${host}" for subjectAltName`);
  }
  return tlv(0x82, Buffer.from(host, 'ascii'));
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const words = (s: string | undefined) => (s ? s.split(':') : []);
  let groups = words(head);
  if (tail !== undefined) {
    const tailGroups = words(tail);
    groups = [...groups, ...Array(8 - groups.length - tailGroups.length).fill('0'), ...tailGroups];
  }
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

const KEY_USAGE = { digitalSignature: 0x80, keyEncipherment: 0x20, keyCertSign: 0x04, cRLSign: 0x02 };

/** keyUsage as a DER BIT STRING of one byte, with the unused trailing bits counted. */
function keyUsageBits(bits: number): Buffer {
  let unused = 0;
  while (unused < 8 && (bits & (1 << unused)) === 0) unused++;
  return tlv(0x03, Buffer.from([unused, bits]));
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

// ---- DER -------------------------------------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else {
    const bytes: number[] = [];
    for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

function sequence(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function boolean(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

/** An unsigned big-endian INTEGER, with a zero byte added when the top bit is set. */
function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1] & 0x80) === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function octetString(content: Buffer): Buffer {
  return tlv(0x04, content);
}

function bitString(content: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
}

function objectIdentifier(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const bytes: number[] = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift(0x80 | (n & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-12-02T13:45:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2))) : tlv(0x18, Buffer.from(digits));
}

function toPem(label: string, der: Buffer): string {
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${base64.replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** Reads one TLV header at offset, checking every length against the buffer. */
function readTlv(der: Buffer, offset: number): Tlv {
  if (offset + 2 > der.length) throw new Error('truncated DER');
  const tag = der[offset];
  let length = der[offset + 1];
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > der.length) throw new Error('bad DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[contentStart + i];
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > der.length) throw new Error('truncated DER');
  return { tag, start: offset, contentStart, end };
}

/**
 * The subject Name's DER (the sixth field of tbsCertificate, after [0] version) and the
 * subjectKeyIdentifier extension's value, if the certificate has one.
 */
function readCaFields(certificateDer: Buffer): { subjectNameDer: Buffer; subjectKeyId: Buffer | null } {
  const certificate = readTlv(certificateDer, 0);
  const tbs = readTlv(certificateDer, certificate.contentStart);
  let field = readTlv(certificateDer, tbs.contentStart);
  const skip = field.tag === 0xa0 ? 5 : 4; // version, serial, signature, issuer, validity
  for (let i = 0; i < skip; i++) field = readTlv(certificateDer, field.end);
  if (field.tag !== 0x30) throw new Error('bad certificate: the subject is not a SEQUENCE');
  const subjectNameDer = certificateDer.subarray(field.start, field.end);
  let subjectKeyId: Buffer | null = null;
  const skiOid = objectIdentifier(OID.subjectKeyIdentifier);
  for (field = readTlv(certificateDer, field.end); field.end < tbs.end;) {
    field = readTlv(certificateDer, field.end);
    if (field.tag !== 0xa3) continue;
    const list = readTlv(certificateDer, field.contentStart);
    for (let offset = list.contentStart; offset < list.end;) {
      const entry = readTlv(certificateDer, offset);
      offset = entry.end;
      const oid = readTlv(certificateDer, entry.contentStart);
      if (!certificateDer.subarray(oid.start, oid.end).equals(skiOid)) continue;
      let value = readTlv(certificateDer, oid.end);
      if (value.tag === 0x01) value = readTlv(certificateDer, value.end); // critical flag
      const inner = readTlv(certificateDer, value.contentStart);
      subjectKeyId = Buffer.from(certificateDer.subarray(inner.contentStart, inner.end));
    }
  }
  return { subjectNameDer, subjectKeyId };
}

// ---- reading subjects ------------------------------------------------------------------

/** Attribute keywords java.security X500Principal.getName(RFC2253) writes; others as OIDs. */
const RFC2253_KEYWORDS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
};

/** DER string types Java decodes to text; any other value type is written as #hex. */
const STRING_ENCODINGS: Record<number, BufferEncoding | 'utf16be'> = {
  0x0c: 'utf8', // UTF8String
  0x13: 'latin1', // PrintableString
  0x14: 'latin1', // T61String
  0x16: 'latin1', // IA5String
  0x1b: 'latin1', // GeneralString
  0x1e: 'utf16be', // BMPString
};

const RFC2253_ESCAPED = ',=+<>#;"\\';

/**
 * A certificate's subject as Kafka sees it: X500Principal.getName() (RFC 2253), most
 * specific RDN first, "CN=alice,OU=eng,O=Brook". The principal mapping rules run on this.
 */
export function subjectRfc2253(certificateDer: Buffer): string {
  const certificate = readTlv(certificateDer, 0);
  const tbs = readTlv(certificateDer, certificate.contentStart);
  let field = readTlv(certificateDer, tbs.contentStart);
  const skip = field.tag === 0xa0 ? 5 : 4;
  for (let i = 0; i < skip; i++) field = readTlv(certificateDer, field.end);
  if (field.tag !== 0x30) throw new Error('bad certificate: the subject is not a SEQUENCE');
  const rdns: string[] = [];
  for (let offset = field.contentStart; offset < field.end;) {
    const set = readTlv(certificateDer, offset);
    offset = set.end;
    const values: string[] = [];
    for (let inner = set.contentStart; inner < set.end;) {
      const ava = readTlv(certificateDer, inner);
      inner = ava.end;
      const oid = readTlv(certificateDer, ava.contentStart);
      const value = readTlv(certificateDer, oid.end);
      const dotted = decodeObjectIdentifier(certificateDer.subarray(oid.contentStart, oid.end));
      const keyword = RFC2253_KEYWORDS[dotted];
      const encoding = STRING_ENCODINGS[value.tag];
      if (!keyword || !encoding) {
        values.push(`${keyword ?? dotted}=#${certificateDer.subarray(value.start, value.end).toString('hex')}`);
        continue;
      }
      const bytes = certificateDer.subarray(value.contentStart, value.end);
      const text = encoding === 'utf16be' ? Buffer.from(bytes).swap16().toString('utf16le') : bytes.toString(encoding);
      values.push(`${keyword}=${escapeRfc2253(text)}`);
    }
    rdns.push(values.join('+'));
  }
  return rdns.reverse().join(',');
}

function escapeRfc2253(value: string): string {
  let escaped = '';
  for (const ch of value) {
    if (RFC2253_ESCAPED.includes(ch)) escaped += '\\' + ch;
    else if (ch === '\u0000') escaped += '\\00';
    else escaped += ch;
  }
  // Leading and trailing spaces (and carriage returns) are escaped too.
  let lead = 0;
  while (lead < escaped.length && (escaped[lead] === ' ' || escaped[lead] === '\r')) lead++;
  let trail = escaped.length - 1;
  while (trail >= 0 && (escaped[trail] === ' ' || escaped[trail] === '\r')) trail--;
  let out = '';
  for (let i = 0; i < escaped.length; i++) out += (i < lead || i > trail ? '\\' : '') + escaped[i];
  return out;
}

function decodeObjectIdentifier(bytes: Buffer): string {
  if (bytes.length === 0) return '';
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}
