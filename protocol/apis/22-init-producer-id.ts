// InitProducerId (key 22), versions 0-5; flexible from v2.
// v1: same as v0. v2: flexible. v3: the current producer id and epoch may be given so the
// epoch can be bumped (KIP-360). v4: PRODUCER_FENCED may be returned. v5: TRANSACTION_ABORTABLE
// may be returned (KIP-890).

import { ApiKey } from '../api-keys';
import { defineApi, field } from '../schema';

export const InitProducerId = defineApi({
  apiKey: ApiKey.InitProducerId,
  name: 'InitProducerId',
  validVersions: '0-5',
  flexibleVersions: '2+',
  request: [
    field('transactionalId', 'string', { nullableVersions: '0+' }),
    field('transactionTimeoutMs', 'int32'),
    field('producerId', 'int64', { versions: '3+', default: -1 }),
    field('producerEpoch', 'int16', { versions: '3+', default: -1 }),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16'),
    field('producerId', 'int64', { default: -1 }),
    field('producerEpoch', 'int16'),
  ],
});
