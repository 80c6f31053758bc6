// CreateAcls (key 30), versions 1-3. Without an authorizer every creation is answered
// SECURITY_DISABLED, as Kafka answers (one result per creation, in request order).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { NO_AUTHORIZER } from './29-describe-acls';

export const createAcls: ApiHandler<typeof ApiKey.CreateAcls> = {
  apiKey: ApiKey.CreateAcls,
  name: 'CreateAcls',
  minVersion: 1,
  maxVersion: 3,
  handle(_ctx, request) {
    return {
      throttleTimeMs: 0,
      results: request.creations.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER })),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: (request?.creations ?? []).map(() => ({ errorCode, errorMessage: null })),
    };
  },
};
