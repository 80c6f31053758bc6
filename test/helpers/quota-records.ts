// Client quota values committed through a broker's metadata quorum as ClientQuota records,
// as the quota APIs would commit them: the broker applies them to its image before the
// returned promise resolves.

import type { MetadataRecordInput } from '../../protocol/metadata/records';
import type { Broker } from '../../src/broker/broker';

/** An entity as (type, name) pairs; a null name is the default entity of that type. */
export type EntityPairs = [string, string | null][];

interface Decider {
  decide<T>(make: () => { records: MetadataRecordInput[]; result: T }, notLeader: T): Promise<T>;
}

/** Sets (or, with null, removes) one quota value of an entity; resolves once applied here. */
export async function setClientQuota(
  broker: Broker,
  entity: EntityPairs,
  key: string,
  value: number | null,
): Promise<void> {
  const record: MetadataRecordInput = {
    type: 'ClientQuota',
    data: {
      entity: entity.map(([entityType, entityName]) => ({ entityType, entityName })),
      key,
      value: value ?? 0,
      remove: value === null,
    },
  };
  // The quorum's own decision path (private): one record, committed like any controller decision.
  const committed = await (broker.quorum as unknown as Decider).decide(
    () => ({ records: [record], result: true }),
    false,
  );
  if (!committed) throw new Error('the broker is not the active controller');
}
