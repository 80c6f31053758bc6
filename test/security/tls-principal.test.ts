// ssl.principal.mapping.rules as Kafka's SslPrincipalMapper applies them (the cases of
// Kafka's own SslPrincipalMapperTest), and subjects read from certificates in the RFC 2253
// form Kafka's X500Principal.getName() gives.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import { createCertificateAuthority, issueCertificate, subjectRfc2253 } from '../../src/security/certs';
import {
  mapPrincipal,
  MappingRuleError,
  NoMatchingRuleError,
  SslPrincipalMapper,
} from '../../src/security/principal-mapper';

test('valid and invalid rules', () => {
  for (const rules of [
    'DEFAULT',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/U',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT',
    'RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/',
    'RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L',
    'RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U',
    'RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/',
    'RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/',
  ]) {
    new SslPrincipalMapper(rules);
  }
  for (const rules of [
    'default',
    'DEFAUL',
    'DEFAULT/L',
    'DEFAULT/U',
    'RULE:CN=(.*?),OU=ServiceUsers.*/$1',
    'rule:^CN=(.*?),OU=ServiceUsers.*$/$1/',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/L',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/U',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/LU',
    'RULE:^CN=((.*$/$1/',
  ]) {
    assert.throws(
      () => new SslPrincipalMapper(rules),
      (e: unknown) => e instanceof MappingRuleError,
      rules,
    );
  }
  assert.throws(() => new SslPrincipalMapper('DEFAULT,'.repeat(5000)), /longer than/);
});

test('the mapper picks the first rule that matches the whole DN', () => {
  const mapper = new SslPrincipalMapper(
    [
      'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L',
      'RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L',
      'RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U',
      'RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U',
      'DEFAULT',
    ].join(', '),
  );
  assert.is(mapper.getName('CN=Duke,OU=ServiceUsers,O=Org,C=US'), 'duke');
  assert.is(mapper.getName('CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US'), 'duke@sme');
  assert.is(mapper.getName('cn=duke,ou=sme,dc=mycp,dc=com'), 'DUKE@SME');
  assert.is(mapper.getName('cN=duke,OU=JavaSoft,O=Sun Microsystems'), 'DUKE');
  assert.is(mapper.getName('OU=JavaSoft,O=Sun Microsystems,C=US'), 'OU=JavaSoft,O=Sun Microsystems,C=US');
});

test('rules split on commas as Kafka splits them', () => {
  const cases: [string, string][] = [
    ['[]', ''],
    ['[DEFAULT]', 'DEFAULT'],
    ['[RULE:/]', 'RULE://'],
    ['[RULE:/.*]', 'RULE:/.*/'],
    ['[RULE:/.*/L]', 'RULE:/.*/L'],
    ['[RULE:/, DEFAULT]', 'RULE://,DEFAULT'],
    ['[RULE:/, DEFAULT]', '  RULE:// ,  DEFAULT  '],
    ['[RULE:   /     , DEFAULT]', '  RULE:   /     / ,  DEFAULT  '],
    ['[RULE:  /     /U, DEFAULT]', '  RULE:  /     /U   ,DEFAULT  '],
    ['[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]', '  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  '],
    ['[]', ',   , , ,      , , ,   '],
    ['[RULE:/, DEFAULT]', ',,RULE://,,,DEFAULT,,'],
    ['[RULE: /   , DEFAULT]', ',  , RULE: /   /    ,,,   DEFAULT, ,   '],
    ['[RULE:   /  /U, DEFAULT]', '     ,  , RULE:   /  /U    ,,  ,DEFAULT, ,'],
    ['[RULE:\\/\\\\\\(\\)\\n\\t/\\/\\/]', 'RULE:\\/\\\\\\(\\)\\n\\t/\\/\\//'],
    ['[RULE:\\**\\/+/*/L, RULE:\\/*\\**/**]', 'RULE:\\**\\/+/*/L,RULE:\\/*\\**/**/'],
    [
      '[RULE:,RULE:,/,RULE:,\\//U, RULE:,/RULE:,, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, /DEFAULT, DEFAULT]',
      'RULE:,RULE:,/,RULE:,\\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT',
    ],
  ];
  for (const [expected, rules] of cases) {
    assert.is(new SslPrincipalMapper(rules).toString(), `SslPrincipalMapper(rules = ${expected})`, rules);
  }
});

test('escaped commas in a DN, and replacement references', () => {
  assert.is(
    mapPrincipal('CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz', 'RULE:^CN=((\\\\, *|\\w)+)(,.*|$)/$1/,DEFAULT'),
    'Tkac\\, Adam',
  );
  // A reference past the pattern's groups stays literal text; \$ is a literal dollar.
  assert.is(mapPrincipal('CN=alice,O=Brook', 'RULE:^CN=(.*?),O=(.*)$/$1-$3-\\$2/'), 'alice-$3-$2');
  // Digits extend a reference only while they still name a group.
  assert.is(mapPrincipal('CN=alice,O=Brook', 'RULE:^CN=(.*?),O=(.*)$/$12/'), 'alice2');
  assert.is(mapPrincipal('CN=alice,O=Brook', 'RULE:^CN=(?<user>.*?),O=.*$/${user}/U'), 'ALICE');
  assert.is(mapPrincipal('CN=alice,O=Brook', 'RULE:^.*$/$0!/'), 'CN=alice,O=Brook!');
  // As Java's replaceAll: an unanchored pattern that can match empty also replaces at the end.
  assert.is(mapPrincipal('abc', 'RULE:.*/x/'), 'xx');
  assert.throws(
    () => mapPrincipal('OU=eng', 'RULE:^CN=(.*)$/$1/'),
    (e: unknown) => e instanceof NoMatchingRuleError,
  );
  assert.throws(
    () => mapPrincipal('CN=a', 'RULE:^CN=a$/$1/'),
    (e: unknown) => e instanceof NoMatchingRuleError,
  );
});

test('subjects from certificates in RFC 2253 form, escaped as Java escapes them', () => {
  const ca = createCertificateAuthority();
  const subjectOf = (subject: string) => {
    const issued = issueCertificate(ca, { subject, kind: 'client' });
    return subjectRfc2253(new X509Certificate(issued.certPem).raw);
  };
  assert.is(subjectOf('CN=alice,OU=eng,O=Brook'), 'CN=alice,OU=eng,O=Brook');
  assert.is(subjectOf('CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz'), 'CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz');
  assert.is(subjectOf('CN=a+b=c;d<e>f"g#h,C=US'), 'CN=a\\+b\\=c\\;d\\<e\\>f\\"g\\#h,C=US');
  assert.is(subjectOf('CN=bob,L=Zürich,ST=ZH'), 'CN=bob,L=Zürich,ST=ZH');
  // Attributes without an RFC 2253 keyword are written as OID=#hex of the DER value.
  assert.is(subjectOf('CN=carol,EMAILADDRESS=c@x'), 'CN=carol,1.2.840.113549.1.9.1=#0c03634078');
});

test.run();
