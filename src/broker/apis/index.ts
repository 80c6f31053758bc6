// The table of served APIs: one handler per API key. ApiVersions answers from this table,
// and a test checks that every advertised version has a codec and a handler.

import { ApiHandler } from '../api-handler';
import { produce } from './00-produce';
import { fetch } from './01-fetch';
import { listOffsets } from './02-list-offsets';
import { metadata } from './03-metadata';
import { apiVersions } from './18-api-versions';
import { createTopics } from './19-create-topics';
import { deleteTopics } from './20-delete-topics';
import { initProducerId } from './22-init-producer-id';
import { describeConfigs } from './32-describe-configs';
import { createPartitions } from './37-create-partitions';

export const handlers: ApiHandler[] = [
  produce,
  fetch,
  listOffsets,
  metadata,
  apiVersions,
  createTopics,
  deleteTopics,
  initProducerId,
  describeConfigs,
  createPartitions,
];
