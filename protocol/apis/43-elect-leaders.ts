// ElectLeaders (key 43), versions 0-2; flexible from v2.
// Elects partition leaders at the controller: v0 always the preferred replica; v1 adds the
// election type (0 preferred, 1 unclean: the first live replica when no ISR member is live,
// KIP-460) and a top-level error code. A null topic list means every partition.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const ElectLeaders = defineApi({
  apiKey: ApiKey.ElectLeaders,
  name: 'ElectLeaders',
  validVersions: '0-2',
  flexibleVersions: '2+',
  request: [
    field('electionType', 'int8', { versions: '1+', default: 0 }),
    array('topicPartitions', [field('topic', 'string'), array('partitions', 'int32')], {
      nullableVersions: '0+',
      default: null,
    }),
    field('timeoutMs', 'int32', { default: 60000 }),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16', { versions: '1+', default: 0 }),
    array('replicaElectionResults', [
      field('topic', 'string'),
      array('partitionResult', [
        field('partitionId', 'int32'),
        field('errorCode', 'int16'),
        field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
      ]),
    ]),
  ],
});
