// The small admin helper the CLI verbs use: one connection to the bootstrap broker, with
// a clear error when it cannot be reached. The connection negotiates versions with
// ApiVersions as the client library does (src/client/cluster.ts): each verb names the
// version it was written for, and the request goes out at the newest version both the
// broker and that one allow, or fails with a clear message when the broker serves none.

import { BrokerConnection, KafkaError } from '../client/cluster';
import { ConnectionOptions, KafkaConnection } from '../net/kafka-connection';
import { parseHostPort } from '../config/config';
import { allApis } from '../../protocol/apis';
import { errorInfo } from '../../protocol/errors';

export class CliError extends Error {
  override name = 'CliError';
}

const API_NAMES = new Map(allApis.map((api) => [api.apiKey, api.name]));

/** A connection whose requests go out at the version negotiated with the broker (see above). */
export class NegotiatedConnection extends KafkaConnection {
  private readonly broker = new BrokerConnection(-1, this);
  private negotiated = false;

  constructor(options: ConnectionOptions, private readonly address: string) {
    super(options);
  }

  override async connect(): Promise<void> {
    await super.connect();
    await this.broker.negotiate(this.address);
    this.negotiated = true;
  }

  /** `apiVersion`: the newest version the caller was written for; a lower one is used when the broker needs it. */
  override request<T = any>(apiKey: number, apiVersion: number, body: unknown, expectResponse = true): Promise<T> {
    if (apiKey === 18 || !this.negotiated) return super.request<T>(apiKey, apiVersion, body, expectResponse);
    let version: number;
    try {
      version = this.broker.version(apiKey, apiVersion);
    } catch {
      return Promise.reject(new CliError(`the broker at ${this.address} does not serve ${API_NAMES.get(apiKey) ?? `API ${apiKey}`} in a version brook speaks`));
    }
    return super.request<T>(apiKey, version, body, expectResponse);
  }
}

export async function connectBootstrap(bootstrap: string, timeoutMs = 10000): Promise<KafkaConnection> {
  const { host, port } = parseHostPort(bootstrap, '--bootstrap');
  const connection = new NegotiatedConnection({ host, port, clientId: 'brook-cli', requestTimeoutMs: timeoutMs, connectTimeoutMs: timeoutMs }, bootstrap);
  try {
    await connection.connect();
  } catch (error) {
    connection.close();
    if (error instanceof KafkaError) throw new CliError(`ApiVersions at ${bootstrap} failed: ${error.message}`);
    throw new CliError(`cannot reach a broker at ${bootstrap}: ${(error as Error).message}`);
  }
  return connection;
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
  const line = (cells: (string | number)[]) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
