// LeaveGroup (key 13), versions 0-5; flexible from v4.
// v1: throttle time. v2: same. v3: several members at once, with instance ids (KIP-345).
// v4: flexible. v5: leave reason.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const LeaveGroup = defineApi({
  apiKey: ApiKey.LeaveGroup,
  name: 'LeaveGroup',
  validVersions: '0-5',
  flexibleVersions: '4+',
  request: [
    field('groupId', 'string'),
    field('memberId', 'string', { versions: '0-2' }),
    array(
      'members',
      [
        field('memberId', 'string'),
        field('groupInstanceId', 'string', { nullableVersions: '3+', default: null }),
        field('reason', 'string', { versions: '5+', nullableVersions: '5+', default: null }),
      ],
      { versions: '3+' },
    ),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '1+' }),
    field('errorCode', 'int16'),
    array(
      'members',
      [
        field('memberId', 'string'),
        field('groupInstanceId', 'string', { nullableVersions: '3+', default: null }),
        field('errorCode', 'int16'),
      ],
      { versions: '3+' },
    ),
  ],
});
