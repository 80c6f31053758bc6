// DescribeLogDirs (key 35), versions 1-4 (v0 removed in Kafka 4.0, KIP-896); flexible from v2.
// Per log directory of the broker asked: its partitions with their size on disk and offset
// lag. A null topic list asks for every partition. v3: a top-level error code; v4: the
// volume's total and usable bytes per log directory.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DescribeLogDirs = defineApi({
  apiKey: ApiKey.DescribeLogDirs,
  name: 'DescribeLogDirs',
  validVersions: '1-4',
  flexibleVersions: '2+',
  request: [
    array('topics', [field('topic', 'string'), array('partitions', 'int32')], {
      nullableVersions: '0+',
      default: null,
    }),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16', { versions: '3+', default: 0 }),
    array('results', [
      field('errorCode', 'int16'),
      field('logDir', 'string'),
      array('topics', [
        field('name', 'string'),
        array('partitions', [
          field('partitionIndex', 'int32'),
          field('partitionSize', 'int64'),
          field('offsetLag', 'int64'),
          field('isFutureKey', 'bool'),
        ]),
      ]),
      field('totalBytes', 'int64', { versions: '4+', default: -1 }),
      field('usableBytes', 'int64', { versions: '4+', default: -1 }),
    ]),
  ],
});
