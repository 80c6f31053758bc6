// A fault-injecting TCP proxy for multi-node tests: one listener in front of each node's
// Kafka port and each node's controller port. It reads the header of the first request on
// every new connection to learn who opened it (Brook's node-to-node connections carry the
// client ids raft-N, broker-N, replica-N and forward-N, N being the sender's node id;
// anything else is a client), then passes bytes both ways. isolate(nodeId) cuts that node
// off from the other nodes the way a network partition does: bytes between them are
// dropped silently and the sockets stay open, while clients still reach every node.
// degrade(nodeId, ...) makes that node's links slow (every chunk delayed, order kept) or
// lossy (TCP's view of packet loss: now and then a long stall, and rarely a reset), for
// clients and nodes alike, until heal().

import * as net from 'node:net';

/** Who opened a connection: a node id, or 'client' (kafkajs, kcat, probes). */
export type Initiator = number | 'client';

/** Brook's node-to-node client ids (tcp-transport, broker-lifecycle, replica-manager, broker). */
const NODE_CLIENT_ID = /^(raft|broker|replica|forward)-(\d+)$/;

/** int32 size + int16 apiKey + int16 apiVersion + int32 correlationId + int16 clientId length. */
const HEADER_FIXED_BYTES = 14;

/** A first request larger than this is not a Kafka client talking to us: pass it on as a client's. */
const FIRST_FRAME_BYTES_MAX = 100 * 1024 * 1024;

/**
 * Reads the initiator from the start of a connection's bytes: a node id, 'client', or null
 * while the header is still incomplete.
 */
export function initiatorOf(bytes: Buffer): Initiator | null {
  if (bytes.length < HEADER_FIXED_BYTES) return null;
  const size = bytes.readInt32BE(0);
  if (size < HEADER_FIXED_BYTES - 4 || size > FIRST_FRAME_BYTES_MAX) return 'client';
  const clientIdBytes = bytes.readInt16BE(12);
  if (clientIdBytes < 0) return 'client';
  if (bytes.length < HEADER_FIXED_BYTES + clientIdBytes) return null;
  const match = NODE_CLIENT_ID.exec(bytes.toString('utf8', HEADER_FIXED_BYTES, HEADER_FIXED_BYTES + clientIdBytes));
  return match ? Number(match[2]) : 'client';
}

/** One proxied connection: `downstream` is the initiator's socket, `upstream` the node's. */
interface Link {
  from: Initiator | null;
  to: number;
  listener: 'kafka' | 'controller';
  downstream: net.Socket;
  upstream: net.Socket | null;
  /** Held open, carrying nothing: destroyed on heal so both sides reconnect. */
  blackholed: boolean;
  /** Bytes that arrived before the initiator was known. */
  head: Buffer;
  /** When the last delayed chunk in each direction is due (order is kept per direction). */
  dueUp: number;
  dueDown: number;
}

/** How a degraded node's links behave (see degrade). */
export interface Degradation {
  /** Every chunk waits this long, plus up to `jitterMs` more. */
  delayMs: number;
  jitterMs: number;
  /** Chance per chunk of a stall of `stallMs` (a lost packet's retransmission). */
  stallChance: number;
  stallMs: number;
  /** Chance per chunk that the connection is reset instead. */
  resetChance: number;
}

export interface LinkInfo {
  from: Initiator | null;
  to: number;
  listener: 'kafka' | 'controller';
  blackholed: boolean;
}

export interface ProxyCounters {
  connections: number;
  bytesForwarded: number;
  bytesDropped: number;
}

export class FaultProxy {
  private readonly servers: net.Server[] = [];
  private readonly links = new Set<Link>();
  private readonly isolated = new Set<number>();
  private readonly degraded = new Map<number, Degradation>();
  private readonly random: () => number;
  readonly counters: ProxyCounters = { connections: 0, bytesForwarded: 0, bytesDropped: 0 };

  /**
   * Listens on a free 127.0.0.1 port in front of node `nodeId`'s listener at `upstreamPort`;
   * resolves with the proxy's port.
   */
  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  /** Slows (and, with the chances set, makes lossy) every link of `nodeId` until heal(). */
  degrade(nodeId: number, how: Degradation): void {
    this.degraded.set(nodeId, how);
  }

  listen(nodeId: number, listener: 'kafka' | 'controller', upstreamPort: number): Promise<number> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket, nodeId, listener, upstreamPort));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  }

  /** Cuts every connection between `nodeId` and another node, present and future. */
  isolate(nodeId: number): void {
    this.isolated.add(nodeId);
    for (const link of this.links) if (link.from !== null && this.cut(link.from, link.to)) link.blackholed = true;
  }

  /** Ends every isolation; the connections that were cut are closed so both sides reconnect. */
  heal(): void {
    this.isolated.clear();
    this.degraded.clear();
    for (const link of [...this.links]) if (link.blackholed) this.drop(link);
  }

  get isolatedNodes(): number[] {
    return [...this.isolated];
  }

  connections(): LinkInfo[] {
    return [...this.links].map(({ from, to, listener, blackholed }) => ({ from, to, listener, blackholed }));
  }

  async close(): Promise<void> {
    for (const link of [...this.links]) this.drop(link);
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.servers.length = 0;
  }

  private cut(from: Initiator, to: number): boolean {
    if (from === 'client' || from === to) return false;
    return this.isolated.has(from) || this.isolated.has(to);
  }

  private accept(downstream: net.Socket, to: number, listener: 'kafka' | 'controller', upstreamPort: number): void {
    this.counters.connections++;
    const link: Link = {
      from: null,
      to,
      listener,
      downstream,
      upstream: null,
      blackholed: false,
      head: Buffer.alloc(0),
      dueUp: 0,
      dueDown: 0,
    };
    this.links.add(link);
    downstream.setNoDelay(true);
    downstream.on('error', () => undefined);
    // A cut link swallows a close as it swallows data (a partition carries no FIN either)
    // and stays listed until heal() or close() destroys both sides; otherwise the close
    // passes through.
    downstream.on('close', () => {
      if (link.blackholed) return;
      link.upstream?.destroy();
      this.forget(link);
    });
    downstream.on('data', (chunk: Buffer) => {
      if (link.from === null) {
        link.head = Buffer.concat([link.head, chunk]);
        const from = initiatorOf(link.head);
        if (from === null) return;
        link.from = from;
        if (this.cut(from, to)) {
          link.blackholed = true;
          this.counters.bytesDropped += link.head.length;
          link.head = Buffer.alloc(0);
          return;
        }
        this.connectUpstream(link, upstreamPort);
        return;
      }
      this.carry(link, chunk, link.upstream, downstream);
    });
  }

  private connectUpstream(link: Link, upstreamPort: number): void {
    const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
    link.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('connect', () => {
      const head = link.head;
      link.head = Buffer.alloc(0);
      if (!link.blackholed) this.carry(link, head, upstream, link.downstream);
      else this.counters.bytesDropped += head.length;
    });
    upstream.on('data', (chunk: Buffer) => this.carry(link, chunk, link.downstream, upstream));
    upstream.on('close', () => {
      // The node is gone (killed, restarted): the initiator sees the close, unless cut off.
      if (!link.blackholed) link.downstream.destroy();
    });
  }

  /** Passes a chunk on, or drops it on a cut link; backpressure pauses the sending side. */
  private carry(link: Link, chunk: Buffer, to: net.Socket | null, from: net.Socket): void {
    if (link.blackholed || !to) {
      this.counters.bytesDropped += chunk.length;
      return;
    }
    if (to.connecting) {
      // Data before the upstream connection is up (the first frame arrived in pieces).
      link.head = Buffer.concat([link.head, chunk]);
      return;
    }
    const how = this.degradationOf(link);
    if (how) {
      this.carryLate(link, chunk, to, how);
      return;
    }
    this.counters.bytesForwarded += chunk.length;
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  }

  private degradationOf(link: Link): Degradation | undefined {
    if (this.degraded.size === 0) return undefined;
    const from = typeof link.from === 'number' ? this.degraded.get(link.from) : undefined;
    return from ?? this.degraded.get(link.to);
  }

  /** A degraded link: the chunk is delivered late (never before an earlier one), or reset. */
  private carryLate(link: Link, chunk: Buffer, to: net.Socket, how: Degradation): void {
    if (this.random() < how.resetChance) {
      this.counters.bytesDropped += chunk.length;
      this.drop(link);
      return;
    }
    let wait = how.delayMs + this.random() * how.jitterMs;
    if (this.random() < how.stallChance) wait += how.stallMs;
    const up = to === link.upstream;
    const now = Date.now();
    const due = Math.max(now + wait, up ? link.dueUp : link.dueDown);
    if (up) link.dueUp = due;
    else link.dueDown = due;
    setTimeout(() => {
      if (to.destroyed) return;
      this.counters.bytesForwarded += chunk.length;
      to.write(chunk);
    }, due - now);
  }

  private drop(link: Link): void {
    link.downstream.destroy();
    link.upstream?.destroy();
    this.forget(link);
  }

  private forget(link: Link): void {
    this.links.delete(link);
  }
}
