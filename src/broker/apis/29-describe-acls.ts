// DescribeAcls (key 29), versions 1-3. Brook has no authorizer yet, so it answers as Kafka
// answers without one (AclApis): SECURITY_DISABLED with "No Authorizer is configured.",
// which tools such as MirrorMaker 2 and kafka-acls read as "ACLs are off here".

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';

/** Kafka's message for the ACL APIs on a broker without an authorizer. */
export const NO_AUTHORIZER = 'No Authorizer is configured.';

export const describeAcls: ApiHandler<typeof ApiKey.DescribeAcls> = {
  apiKey: ApiKey.DescribeAcls,
  name: 'DescribeAcls',
  minVersion: 1,
  maxVersion: 3,
  handle() {
    return { throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER, resources: [] };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, resources: [] };
  },
};
