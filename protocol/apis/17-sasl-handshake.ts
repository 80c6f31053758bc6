// SaslHandshake (key 17), versions 0-1; never flexible.
// v0 (KIP-43): after a successful handshake the SASL tokens travel as raw size-prefixed
// frames with no Kafka request or response header. v1: the tokens travel in
// SaslAuthenticate requests instead. The response layout is the same in both.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const SaslHandshake = defineApi({
  apiKey: ApiKey.SaslHandshake,
  name: 'SaslHandshake',
  validVersions: '0-1',
  flexibleVersions: 'none',
  request: [field('mechanism', 'string', { about: 'The SASL mechanism chosen by the client.' })],
  response: [
    field('errorCode', 'int16'),
    array('mechanisms', 'string', { about: 'The mechanisms enabled on this listener.' }),
  ],
});
