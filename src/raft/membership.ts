// The voter set of the quorum as it travels in the Raft log (a membership entry) and in
// snapshots: [count int32] then per voter [id int32][host length int16][host utf8][port int32].
// Endpoints ride along so that a node learns how to reach a voter added after it started.

import { Reader, Writer } from '../../protocol/primitives';

export interface VoterEndpoint {
  id: number;
  host: string;
  port: number;
}

/** Entry kinds: a client entry (metadata records) or a change of the voter set. */
export const ENTRY_NORMAL = 0;
export const ENTRY_MEMBERSHIP = 1;

const VOTERS_MAX = 1000;

export function encodeMembership(voters: readonly VoterEndpoint[]): Buffer {
  const writer = new Writer(16 + voters.length * 24);
  writer.int32(voters.length);
  for (const v of voters) writer.int32(v.id).string(v.host).int32(v.port);
  return writer.toBuffer();
}

export function decodeMembership(data: Buffer): VoterEndpoint[] {
  const reader = new Reader(data);
  const count = reader.int32();
  if (count < 0 || count > VOTERS_MAX) throw new RangeError(`membership entry claims ${count} voters`);
  const voters: VoterEndpoint[] = [];
  for (let i = 0; i < count; i++) {
    const id = reader.int32();
    const host = reader.string();
    voters.push({ id, host, port: reader.int32() });
  }
  return voters;
}
