// The connection flags every `brook` command that talks to brokers shares, as Kafka's tools
// take them: `--command-config FILE` (a client properties file: security.protocol, sasl.*,
// ssl.*), or the BROOK_COMMAND_CONFIG environment variable, and `--security-protocol` to
// override the file's protocol. Passwords come from the file, never from the command line.

import { ConfigError, readConfigFile } from '../config/config';
import { parseClientSecurity, type ClientSecurity } from '../security/client-config';

/** Valued flags to add to a command's parseArgs list. */
export const CONNECTION_FLAGS = ['command-config', 'security-protocol'];

export const CONNECTION_HELP = `Connection options (every command that talks to brokers):
  --command-config FILE     client settings by Kafka's names: security.protocol, sasl.mechanism,
                            sasl.username / sasl.password or sasl.jaas.config, sasl.oauthbearer.token,
                            ssl.ca.location or ssl.truststore.location (PEM), ssl.certificate.location
                            and ssl.key.location, ssl.endpoint.identification.algorithm
                            (default: the file named by BROOK_COMMAND_CONFIG, if set)
  --security-protocol P     PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (overrides the file's)
`;

/** The client security the flags (or BROOK_COMMAND_CONFIG) ask for; undefined for plain PLAINTEXT. */
export function clientSecurity(
  flags: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv = process.env,
): ClientSecurity | undefined {
  const file = flags['command-config'] ?? (env.BROOK_COMMAND_CONFIG || undefined);
  const protocol = flags['security-protocol'];
  if (file === undefined && protocol === undefined) return undefined;
  let keys: Record<string, string> = {};
  if (file !== undefined) {
    try {
      keys = readConfigFile(file);
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(error.message.replace(/^--config:/, '--command-config:'));
      throw error;
    }
  }
  if (protocol !== undefined) keys = { ...keys, 'security.protocol': protocol };
  return parseClientSecurity(keys, file !== undefined ? `--command-config ${file}` : '--security-protocol');
}
