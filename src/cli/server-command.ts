// `brook server`: parses flags and config, starts the broker, and turns SIGTERM/SIGINT
// into one clean shutdown (in-flight requests answered, files flushed and closed). The
// server process is fail-stop: a failed start, an uncaught exception or an unhandled
// rejection ends it with a non-zero code and one error line, never leaving it limping on.

import { ConfigError, loadConfig, ServerFlags } from '../config/config';
import * as fs from 'node:fs';
import { createLogger, Logger } from '../logger';
import { startBroker } from '../server/broker-server';
import { parseArgs } from './args';

export const SERVER_HELP = `Usage: brook server [options]

Runs one Brook node: a Kafka-protocol broker (and, from the metadata quorum on, a
controller voter).

Options:
  --node-id N                   node id (default 1)
  --listen HOST:PORT            Kafka listener (default 127.0.0.1:9092); several named
                                listeners: listeners=NAME://HOST:PORT,... in --config
  --advertise HOST:PORT         Kafka address given to clients and other brokers
                                (advertised.listeners; default: the --listen address)
  --controller-listen HOST:PORT controller (Raft) listener (default 127.0.0.1:9093;
                                or controller.listener.names in --config)
  --http HOST:PORT|off          HTTP listener for health and console (default 127.0.0.1:8080)
  --data-dir DIR                data directory (default ./data)
  --voters ID@HOST:PORT,...     controller quorum voters (default: this node only)
  --config FILE                 Kafka-style key=value properties file, or .json
  --log-level LEVEL             debug, info, warn, error or silent (default info)
  --help                        show this help

Flags override the config file; the config file overrides the defaults.
Ready when the Kafka listener answers ApiVersions. SIGTERM shuts down cleanly.
`;

const FORCED_EXIT_MS = 30_000;
/** Exit code of a server that stopped on a fault (a failed start, an uncaught error). */
export const FAULT_EXIT_CODE = 1;

/** What installProcessGuards needs of `process` (a test passes a stand-in). */
export interface GuardedProcess {
  on(event: 'uncaughtException' | 'unhandledRejection', listener: (error: unknown) => void): unknown;
  exit(code: number): never;
}

/**
 * Fail-stop on a fault nobody handled: the event is logged synchronously (the line must be
 * on stderr before the process ends) and the process exits non-zero. State after an
 * uncaught exception is unknown; serving on from it could acknowledge writes it then loses.
 */
export function installProcessGuards(logger: Logger, target: GuardedProcess = process): void {
  const fail = (kind: string) => (error: unknown) => {
    try {
      logger.errorSync(kind, { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    } catch {
      // The logger itself failed: the plain line below still says why the process ends.
      fs.writeSync(2, `brook: ${kind}: ${String(error)}\n`);
    }
    target.exit(FAULT_EXIT_CODE);
  };
  target.on('uncaughtException', fail('uncaught exception, exiting'));
  target.on('unhandledRejection', fail('unhandled promise rejection, exiting'));
}

export async function serverCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(
    argv,
    ['node-id', 'listen', 'advertise', 'controller-listen', 'http', 'data-dir', 'voters', 'config', 'log-level'],
    ['help'],
  );
  if (flags.help) {
    process.stdout.write(SERVER_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new ConfigError(`unexpected argument "${positionals[0]}"`);
  const config = loadConfig(flags as ServerFlags);
  const logger = createLogger({ level: config.logLevel });
  for (const key of config.unknownKeys) logger.warn('unknown config key ignored', { key, file: config.configFile });
  installProcessGuards(logger);
  let running;
  try {
    running = await startBroker(config, logger);
  } catch (error) {
    // A listener's TLS settings are read first, before anything starts: a config error.
    if (error instanceof ConfigError) throw error;
    logger.errorSync('startup failed', { error: (error as Error).message });
    fs.writeSync(2, `brook: startup failed: ${(error as Error).message}\n`);
    // Fail-stop: whatever a partial start left running (a timer, a socket) must not keep
    // the process up without its listeners.
    process.exit(FAULT_EXIT_CODE);
  }
  const broker = running;
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('signal received', { signal });
      const force = setTimeout(() => {
        logger.errorSync('shutdown took too long, exiting');
        process.exit(1);
      }, FORCED_EXIT_MS);
      force.unref();
      broker.close().then(resolve, (error) => {
        logger.error('shutdown failed', { error: (error as Error).message });
        resolve();
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  logger.flushSync();
  return 0;
}
