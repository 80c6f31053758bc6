// The bundled Kafka clients the HTTP API uses for writes and for anything a partition
// leader or group coordinator must answer: connected to this node's own Kafka listener,
// made on first use, and closed with the HTTP server, so leadership, forwarding and
// retries work exactly as for any Kafka client.

import { Admin } from '../client/admin';
import { Producer } from '../client/producer';
import type { ClientSecurity } from '../security/client-config';

/** Timeouts of the HTTP API's clients: an HTTP request should fail well before 30 s. */
const CLIENT_REQUEST_TIMEOUT_MS = 15_000;
const PRODUCER_DELIVERY_TIMEOUT_MS = 20_000;
const PRODUCER_MAX_BLOCK_MS = 10_000;

export type Acks = 0 | 1 | -1;

export class KafkaClients {
  private admin: Admin | null = null;
  private adminConnecting: Promise<Admin> | null = null;
  private readonly producers = new Map<Acks, Producer>();
  private closed = false;

  constructor(
    private readonly bootstrap: () => string,
    private readonly security?: ClientSecurity,
  ) {}

  private options(clientId: string) {
    return {
      bootstrap: [this.bootstrap()],
      clientId,
      requestTimeoutMs: CLIENT_REQUEST_TIMEOUT_MS,
      connectTimeoutMs: 5000,
      security: this.security,
    };
  }

  async adminClient(): Promise<Admin> {
    if (this.closed) throw new Error('the HTTP API is shutting down');
    if (this.admin) return this.admin;
    this.adminConnecting ??= (async () => {
      const admin = new Admin(this.options('brook-http-admin'));
      try {
        await admin.connect();
      } catch (error) {
        admin.close();
        throw error;
      }
      this.admin = admin;
      return admin;
    })().finally(() => {
      this.adminConnecting = null;
    });
    return this.adminConnecting;
  }

  /** One producer per acks setting (idempotent with acks=all). */
  producer(acks: Acks): Producer {
    if (this.closed) throw new Error('the HTTP API is shutting down');
    let producer = this.producers.get(acks);
    if (!producer) {
      producer = new Producer({
        ...this.options(`brook-http-producer-acks${acks}`),
        acks,
        idempotent: acks === -1,
        lingerMs: 0,
        deliveryTimeoutMs: PRODUCER_DELIVERY_TIMEOUT_MS,
        maxBlockMs: PRODUCER_MAX_BLOCK_MS,
      });
      this.producers.set(acks, producer);
    }
    return producer;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.admin?.close();
    this.admin = null;
    const producers = [...this.producers.values()];
    this.producers.clear();
    // Shutting down: a record still undelivered has already failed its own HTTP request.
    await Promise.all(producers.map((p) => p.close().catch(() => undefined)));
  }
}
