// DeleteAcls (key 31), versions 1-3. Without an authorizer every filter is answered
// SECURITY_DISABLED with no matching ACLs, as Kafka answers.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { NO_AUTHORIZER } from './29-describe-acls';

export const deleteAcls: ApiHandler<typeof ApiKey.DeleteAcls> = {
  apiKey: ApiKey.DeleteAcls,
  name: 'DeleteAcls',
  minVersion: 1,
  maxVersion: 3,
  handle(_ctx, request) {
    return {
      throttleTimeMs: 0,
      filterResults: request.filters.map(() => ({
        errorCode: ErrorCode.SECURITY_DISABLED,
        errorMessage: NO_AUTHORIZER,
        matchingAcls: [],
      })),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      filterResults: (request?.filters ?? []).map(() => ({ errorCode, errorMessage: null, matchingAcls: [] })),
    };
  },
};
