// The small admin helper the CLI verbs use: one connection to the bootstrap broker, with
// a clear error when it cannot be reached. (The full bundled client is issue 6.)

import { KafkaConnection } from '../client/connection';
import { parseHostPort } from '../config/config';
import { errorInfo } from '../../protocol/errors';

export class CliError extends Error {
  override name = 'CliError';
}

export async function connectBootstrap(bootstrap: string, timeoutMs = 10000): Promise<KafkaConnection> {
  const { host, port } = parseHostPort(bootstrap, '--bootstrap');
  const connection = new KafkaConnection({ host, port, clientId: 'brook-cli', requestTimeoutMs: timeoutMs, connectTimeoutMs: timeoutMs });
  try {
    await connection.connect();
  } catch (error) {
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
