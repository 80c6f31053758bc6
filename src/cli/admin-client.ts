// What the CLI verbs share: a connection to the bootstrap broker with a clear error when
// it cannot be reached, and the bundled admin client for the flows that need the cluster
// (a group's coordinator, offsets from each partition's leader). Both come from the client
// library (src/client/cluster.ts): versions are negotiated with ApiVersions there, each
// verb names the version it was written for, and the request goes out at the newest
// version both the broker and that one allow, or fails with a clear message when the
// broker serves none.

import type { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';
import { Admin } from '../client/admin';
import { BrokerConnection, KafkaError, openBroker, UnsupportedApiError } from '../client/cluster';
import { parseHostPort } from '../config/config';
import { errorInfo } from '../../protocol/errors';
import { AuthenticationFailedError } from '../net/kafka-connection';
import type { ClientSecurity } from '../security/client-config';
import { UsageError } from './args';

export class CliError extends Error {
  override name = 'CliError';
}

/** Any failure of a verb as one CliError line. */
export function cliError(error: unknown, bootstrap: string): Error {
  if (error instanceof CliError || error instanceof UsageError) return error;
  if (error instanceof UnsupportedApiError) return new CliError(error.context);
  if (error instanceof KafkaError || error instanceof AuthenticationFailedError) return new CliError(error.message);
  return new CliError(`request to ${bootstrap} failed: ${(error as Error).message}`);
}

/** The CLI's session with a cluster: the bootstrap broker, and an admin client made on first use. */
export class CliClient {
  private adminClient: Admin | null = null;

  constructor(
    private readonly broker: BrokerConnection,
    readonly bootstrap: string,
    private readonly timeoutMs: number,
    private readonly security?: ClientSecurity,
  ) {}

  /** `newest`: the version the verb was written for; a lower one is used when the broker needs it. */
  async request<K extends ApiKey>(apiKey: K, newest: number, body: RequestInput<K>): Promise<Response<K>> {
    try {
      return await this.broker.request(apiKey, body, { cap: newest });
    } catch (error) {
      if (error instanceof UnsupportedApiError) throw new CliError(error.context);
      throw error;
    }
  }

  get admin(): Admin {
    this.adminClient ??= new Admin({
      bootstrap: [this.bootstrap],
      clientId: 'brook-cli',
      requestTimeoutMs: this.timeoutMs,
      connectTimeoutMs: this.timeoutMs,
      security: this.security,
    });
    return this.adminClient;
  }

  close(): void {
    this.broker.connection.close();
    this.adminClient?.close();
  }
}

/** `security`: from the command's connection flags (see connection-flags.ts). */
export async function connectBootstrap(
  bootstrap: string,
  timeoutMs = 10000,
  security?: ClientSecurity,
): Promise<CliClient> {
  const { host, port } = parseHostPort(bootstrap, '--bootstrap');
  try {
    const broker = await openBroker(
      -1,
      { host, port },
      { clientId: 'brook-cli', requestTimeoutMs: timeoutMs, connectTimeoutMs: timeoutMs, security },
    );
    return new CliClient(broker, bootstrap, timeoutMs, security);
  } catch (error) {
    if (error instanceof AuthenticationFailedError) throw new CliError(error.message);
    if (error instanceof KafkaError) throw new CliError(`ApiVersions at ${bootstrap} failed: ${error.message}`);
    throw new CliError(`cannot reach a broker at ${bootstrap}: ${(error as Error).message}`);
  }
}

/** Throws a CliError naming the Kafka error when `code` is not NONE. */
export function check(code: number, what: string): void {
  if (code === 0) return;
  const info = errorInfo(code);
  throw new CliError(`${what}: ${info.name} (${code}): ${info.message}`);
}

/** Renders rows as an aligned text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]) =>
    cells
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Runs `work` with the admin client of a session to `bootstrap`; any failure becomes one CliError line. */
export async function withAdmin<T>(
  bootstrap: string,
  security: ClientSecurity | undefined,
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  const client = await connectBootstrap(bootstrap, undefined, security);
  try {
    return await work(client.admin);
  } catch (error) {
    throw cliError(error, bootstrap);
  } finally {
    client.close();
  }
}

/** A flag that must be a non-negative integer (an id, a partition). */
export function nonNegativeInteger(flags: Record<string, string>, name: string, what: string): number {
  const value = Number(flags[name]);
  if (flags[name] === undefined || flags[name].trim() === '' || !Number.isInteger(value) || value < 0)
    throw new UsageError(
      `--${name}: expected ${what} (a non-negative integer), got ${JSON.stringify(flags[name] ?? null)}`,
    );
  return value;
}
