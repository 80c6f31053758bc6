// SaslAuthenticate (key 36), versions 0-2; flexible from v2.
// v0: one SASL token each way. v1: the response adds the session lifetime (KIP-368: the
// client must re-authenticate before it runs out). v2: flexible (compact fields, tags).

import { ApiKey } from '../api-keys';
import { defineApi, field } from '../schema';

export const SaslAuthenticate = defineApi({
  apiKey: ApiKey.SaslAuthenticate,
  name: 'SaslAuthenticate',
  validVersions: '0-2',
  flexibleVersions: '2+',
  request: [field('authBytes', 'bytes', { about: 'The SASL token from the client.' })],
  response: [
    field('errorCode', 'int16'),
    field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
    field('authBytes', 'bytes', { about: 'The SASL token from the server.' }),
    field('sessionLifetimeMs', 'int64', { versions: '1+', default: 0 }),
  ],
});
