// DescribeGroups (key 15), versions 0-6; flexible from v5.
// v1: throttle time. v2: same. v3: authorized operations. v4: group instance ids.
// v5: flexible. v6: per-group error message; an unknown group is GROUP_ID_NOT_FOUND
// (KIP-1043) rather than a Dead group with no error.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DescribeGroups = defineApi({
  apiKey: ApiKey.DescribeGroups,
  name: 'DescribeGroups',
  validVersions: '0-6',
  flexibleVersions: '5+',
  request: [array('groups', 'string'), field('includeAuthorizedOperations', 'bool', { versions: '3+' })],
  response: [
    field('throttleTimeMs', 'int32', { versions: '1+' }),
    array('groups', [
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { versions: '6+', nullableVersions: '6+', default: null }),
      field('groupId', 'string'),
      field('groupState', 'string'),
      field('protocolType', 'string'),
      field('protocolData', 'string'),
      array('members', [
        field('memberId', 'string'),
        field('groupInstanceId', 'string', { versions: '4+', nullableVersions: '4+', default: null }),
        field('clientId', 'string'),
        field('clientHost', 'string'),
        field('memberMetadata', 'bytes'),
        field('memberAssignment', 'bytes'),
      ]),
      field('authorizedOperations', 'int32', { versions: '3+', default: -2147483648 }),
    ]),
  ],
});
