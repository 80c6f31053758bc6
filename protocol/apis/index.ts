// The registry of API schemas, by key and by name.

import { ApiSchema } from '../schema';
import { Produce } from './00-produce';
import { Fetch } from './01-fetch';
import { ListOffsets } from './02-list-offsets';
import { Metadata } from './03-metadata';
import { ApiVersions } from './18-api-versions';
import { CreateTopics } from './19-create-topics';
import { DeleteTopics } from './20-delete-topics';
import { InitProducerId } from './22-init-producer-id';
import { DescribeConfigs } from './32-describe-configs';
import { CreatePartitions } from './37-create-partitions';

export const allApis: ApiSchema[] = [
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  InitProducerId,
  DescribeConfigs,
  CreatePartitions,
];

const byKey = new Map(allApis.map((api) => [api.apiKey, api]));
const byName = new Map(allApis.map((api) => [api.name.toLowerCase(), api]));

export function apiByKey(apiKey: number): ApiSchema | undefined {
  return byKey.get(apiKey);
}

/** Accepts "Produce", "produce" or the numeric key as a string. */
export function apiByName(name: string): ApiSchema | undefined {
  if (/^\d+$/.test(name)) return byKey.get(Number(name));
  return byName.get(name.toLowerCase().replace(/[-_ ]/g, ''));
}
