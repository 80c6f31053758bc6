// One Brook broker process for the authorizer bench: started like `brook server` (the same
// startBroker, config file and flags), then, when asked, given its ACLs through its own
// metadata quorum (a single node is the active controller) before it reports ready on
// stdout. Both brokers of the bench start through here, with and without an authorizer.
// Usage: node dist/bench/lib/acl-broker.js PORT CONTROLLER_PORT DATA_DIR CONFIG_FILE ACL_SET
// ACL_SET: none, or bench:<count> (see benchAcls).

import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logger';
import { startBroker } from '../../src/server/broker-server';
import {
  AclBinding,
  AclOperation as Op,
  AclPermission,
  CLUSTER_RESOURCE_NAME,
  PatternType,
  ResourceType,
} from '../../src/security/acl';

/** The topics the bench produces to: the producer's one ACL is a prefix of their names. */
export const BENCH_TOPIC_PREFIX = 'bench-authz-';

/**
 * `count` ACLs: the producer's principal (User:ANONYMOUS on a PLAINTEXT listener) may Write
 * the bench topics through one PREFIXED ACL and Create on the cluster (to create them);
 * every other ACL names another principal or another topic (literal and prefixed, allow and
 * deny, several operations), so each authorization miss walks all of them.
 */
export function benchAcls(count: number): AclBinding[] {
  const acl = (
    user: string,
    operation: number,
    resourceType: number,
    resourceName: string,
    prefixed = false,
    deny = false,
    host = '*',
  ): AclBinding => ({
    resourceType,
    resourceName,
    patternType: prefixed ? PatternType.PREFIXED : PatternType.LITERAL,
    principal: `User:${user}`,
    host,
    operation,
    permissionType: deny ? AclPermission.DENY : AclPermission.ALLOW,
  });
  const acls = [
    acl('ANONYMOUS', Op.WRITE, ResourceType.TOPIC, BENCH_TOPIC_PREFIX, true),
    acl('ANONYMOUS', Op.CREATE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME),
  ];
  const operations = [Op.READ, Op.WRITE, Op.DESCRIBE, Op.ALL];
  for (let i = 0; acls.length < count; i++) {
    // ANONYMOUS's other ACLs name other topics only.
    const user = i % 3 === 0 ? 'ANONYMOUS' : `user-${i % 97}`;
    const prefixed = i % 5 === 0;
    const topic = prefixed ? `other-${i}-` : `other-${i}`;
    const host = i % 11 === 0 ? '10.0.0.1' : '*';
    acls.push(acl(user, operations[i % operations.length], ResourceType.TOPIC, topic, prefixed, i % 7 === 0, host));
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
  if (aclSet.startsWith('bench:')) {
    const results = await running.broker.quorum.createAcls(benchAcls(Number(aclSet.slice(6))));
    const failed = results.find((r) => r.errorCode !== 0);
    if (failed) throw new Error(`ACLs not created: error ${failed.errorCode} ${failed.errorMessage ?? ''}`);
  }
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
