// One Brook broker process for the authorizer bench: started like `brook server` (the same
// startBroker, config file and flags), then, when asked, given its ACLs through its own
// metadata quorum (a single node is the active controller) before it reports ready on
// stdout. Both brokers of the bench start through here, with and without an authorizer.
// Usage: node dist/bench/lib/acl-broker.js PORT CONTROLLER_PORT DATA_DIR CONFIG_FILE ACL_SET
// ACL_SET: none, or bench:<count> (see benchAcls).

import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logger';
import { startBroker } from '../../src/server/broker-server';
import type { AclBinding } from '../../src/security/acl';
import { addAcls, clusterAcl, Op, topicAcl } from '../../test/helpers/acls';

/** The topics the bench produces to: the producer's one ACL is a prefix of their names. */
export const BENCH_TOPIC_PREFIX = 'bench-authz-';

/**
 * `count` ACLs: the producer's principal (User:ANONYMOUS on a PLAINTEXT listener) may Write
 * the bench topics through one PREFIXED ACL and Create on the cluster (to create them);
 * every other ACL names another principal or another topic (literal and prefixed, allow and
 * deny, several operations), so each authorization miss walks all of them.
 */
export function benchAcls(count: number): AclBinding[] {
  const acls = [
    topicAcl('ANONYMOUS', Op.WRITE, BENCH_TOPIC_PREFIX, { pattern: 'prefixed' }),
    clusterAcl('ANONYMOUS', Op.CREATE),
  ];
  const operations = [Op.READ, Op.WRITE, Op.DESCRIBE, Op.ALL];
  for (let i = 0; acls.length < count; i++) {
    const user = i % 3 === 0 ? 'ANONYMOUS' : `user-${i % 97}`;
    // ANONYMOUS's other ACLs name other topics only.
    const topic = `other-${i}`;
    acls.push(
      topicAcl(user, operations[i % operations.length], i % 5 === 0 ? `${topic}-` : topic, {
        pattern: i % 5 === 0 ? 'prefixed' : 'literal',
        deny: i % 7 === 0,
        host: i % 11 === 0 ? '10.0.0.1' : '*',
      }),
    );
  }
  return acls;
}

async function main(): Promise<void> {
  const [port, controllerPort, dataDir, configFile, aclSet] = process.argv.slice(2);
  const logger = createLogger({ level: 'warn' });
  const running = await startBroker(
    loadConfig({
      listen: `127.0.0.1:${port}`,
      'controller-listen': `127.0.0.1:${controllerPort}`,
      http: 'off',
      'data-dir': dataDir,
      'log-level': 'warn',
      config: configFile,
    }),
    logger,
  );
  if (aclSet.startsWith('bench:')) await addAcls(running.broker, benchAcls(Number(aclSet.slice(6))));
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write('ready\n');
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  });
}
