// JoinGroup (key 11), versions 0-9; flexible from v6.
// v1: rebalance timeout. v2: throttle time. v3: same. v4: MEMBER_ID_REQUIRED two-step
// join (KIP-394). v5: group instance id (static membership, KIP-345). v6: flexible.
// v7: protocol type in the response, protocol name nullable. v8: join reason.
// v9: skip-assignment flag in the response.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const JoinGroup = defineApi({
  apiKey: ApiKey.JoinGroup,
  name: 'JoinGroup',
  validVersions: '0-9',
  flexibleVersions: '6+',
  request: [
    field('groupId', 'string'),
    field('sessionTimeoutMs', 'int32'),
    field('rebalanceTimeoutMs', 'int32', { versions: '1+', default: -1 }),
    field('memberId', 'string'),
    field('groupInstanceId', 'string', { versions: '5+', nullableVersions: '5+', default: null }),
    field('protocolType', 'string'),
    array('protocols', [field('name', 'string'), field('metadata', 'bytes')]),
    field('reason', 'string', { versions: '8+', nullableVersions: '8+', default: null }),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '2+' }),
    field('errorCode', 'int16'),
    field('generationId', 'int32', { default: -1 }),
    field('protocolType', 'string', { versions: '7+', nullableVersions: '7+', default: null }),
    field('protocolName', 'string', { nullableVersions: '7+' }),
    field('leader', 'string'),
    field('skipAssignment', 'bool', { versions: '9+', default: false }),
    field('memberId', 'string'),
    array('members', [
      field('memberId', 'string'),
      field('groupInstanceId', 'string', { versions: '5+', nullableVersions: '5+', default: null }),
      field('metadata', 'bytes'),
    ]),
  ],
});
