// SaslHandshake (key 17), versions 0-1.
// On a SASL listener the handshake of an unauthenticated connection (and a
// re-authentication, KIP-368) never gets here: the connection's SASL gate answers it
// (src/security/sasl/authenticator.ts). What reaches the handler is a handshake on a
// PLAINTEXT or SSL listener, or on a SASL connection that is already authenticated and may
// not re-authenticate now; Kafka's KafkaApis answers both with ILLEGAL_SASL_STATE.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';

export const saslHandshake: ApiHandler<typeof ApiKey.SaslHandshake> = {
  apiKey: ApiKey.SaslHandshake,
  name: 'SaslHandshake',
  minVersion: 0,
  maxVersion: 1,
  handle() {
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
  },
  errorResponse(_request, errorCode) {
    return { errorCode, mechanisms: [] };
  },
};
