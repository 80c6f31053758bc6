// TlsMaterial.checkReconfiguration and reconfigure, Kafka's SslFactory rules for a dynamic
// key store update: the new certificate keeps the subject DN and every SAN unless
// ssl.allow.dn.changes / ssl.allow.san.changes, a key store cannot be removed nor a trust
// store added, and a failed reconfigure keeps the material in use.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../src/config/config';
import { issueCertificate } from '../../src/security/certs';
import { parseTlsSettings, TlsMaterial } from '../../src/security/tls';
import { certFixture } from '../helpers/certs';

const { ca, server } = certFixture();
const settingsOf = (cert: { keyPem: string; certPem: string }, extra: Record<string, string> = {}) =>
  parseTlsSettings(
    { 'ssl.keystore.key': cert.keyPem, 'ssl.keystore.certificate.chain': cert.certPem, ...extra },
    'listener SSL',
  );
const strict = { dnChanges: false, sanChanges: false };

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    assert.instance(error, ConfigError);
    return (error as Error).message;
  }
  assert.unreachable('accepted');
  return '';
}

test('same subject and SANs: accepted; more SANs: accepted', () => {
  const material = new TlsMaterial(settingsOf(server));
  const renewed = issueCertificate(ca, {
    subject: 'CN=localhost,O=Brook',
    kind: 'server',
    hosts: ['127.0.0.1', 'localhost'],
  });
  material.checkReconfiguration(settingsOf(renewed), strict);
  const wider = issueCertificate(ca, {
    subject: 'CN=localhost,O=Brook',
    kind: 'server',
    hosts: ['127.0.0.1', 'localhost', 'broker.example'],
  });
  material.checkReconfiguration(settingsOf(wider), strict);
});

test('another subject or fewer SANs: refused unless allowed', () => {
  const material = new TlsMaterial(settingsOf(server));
  const renamed = issueCertificate(ca, {
    subject: 'CN=other,O=Brook',
    kind: 'server',
    hosts: ['127.0.0.1', 'localhost'],
  });
  assert.match(
    refusal(() => material.checkReconfiguration(settingsOf(renamed), strict)),
    'Keystore DistinguishedName does not match:  existing={DN=CN=localhost,O=Brook}, new={DN=CN=other,O=Brook}',
  );
  material.checkReconfiguration(settingsOf(renamed), { dnChanges: true, sanChanges: false });
  const narrower = issueCertificate(ca, { subject: 'CN=localhost,O=Brook', kind: 'server', hosts: ['localhost'] });
  assert.match(
    refusal(() => material.checkReconfiguration(settingsOf(narrower), strict)),
    /SubjectAltNames do not match/,
  );
  material.checkReconfiguration(settingsOf(narrower), { dnChanges: false, sanChanges: true });
});

test('no key store removed, no trust store added; a bad reconfigure keeps the material', () => {
  const material = new TlsMaterial(settingsOf(server));
  assert.match(
    refusal(() => material.checkReconfiguration(parseTlsSettings({}, 'listener SSL'), strict)),
    /Cannot remove the SSL keystore/,
  );
  assert.match(
    refusal(() =>
      material.checkReconfiguration(settingsOf(server, { 'ssl.truststore.certificates': ca.certPem }), strict),
    ),
    /Cannot add SSL truststore/,
  );
  const before = material.serverContext;
  assert.match(
    refusal(() => material.reconfigure(parseTlsSettings({}, 'listener SSL'))),
    /needs a key store/,
  );
  assert.is(material.serverContext, before);
  refusal(() => material.reconfigure(settingsOf({ keyPem: server.keyPem, certPem: ca.certPem })));
  assert.is(material.serverContext, before);
  const renewed = issueCertificate(ca, { subject: 'CN=localhost,O=Brook', kind: 'server', hosts: ['127.0.0.1'] });
  material.reconfigure(settingsOf(renewed));
  assert.is.not(material.serverContext, before);
  assert.is(material.settings.keystore && 'pem' in material.settings.keystore.key, true);
});

test.run();
