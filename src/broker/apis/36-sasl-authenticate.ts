// SaslAuthenticate (key 36), versions 0-2.
// The tokens of a SASL exchange are handled by the connection's SASL gate
// (src/security/sasl/authenticator.ts) before any request is dispatched. A SaslAuthenticate
// that reaches this handler came outside an exchange (a PLAINTEXT or SSL listener, or an
// authenticated connection), and is answered with ILLEGAL_SASL_STATE as Kafka's KafkaApis does.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';

export const saslAuthenticate: ApiHandler<typeof ApiKey.SaslAuthenticate> = {
  apiKey: ApiKey.SaslAuthenticate,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  handle() {
    return {
      errorCode: ErrorCode.ILLEGAL_SASL_STATE,
      errorMessage: 'SaslAuthenticate request received after successful authentication',
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0,
    };
  },
  errorResponse(_request, errorCode) {
    return { errorCode, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 };
  },
};
