// A single in-process node with a SASL_PLAINTEXT client listener, Kafka's StandardAuthorizer
// and the SCRAM users admin (super user), alice and bob, for authorization tests; with
// clients for each user (kafkajs and a raw KafkaConnection) and ACLs granted through
// kafkajs's admin.createAcls as the super user.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { AclPermission, PatternType } from '../../src/security/acl';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { freePort } from './ports';

export type TestUser = 'admin' | 'alice' | 'bob';

const PASSWORDS: Record<TestUser, string> = {
  admin: 'admin-secret',
  alice: 'alice-secret',
  bob: 'bob-secret',
};

export interface TestAcl {
  resourceType: number;
  resourceName: string;
  /** LITERAL when absent. */
  patternType?: number;
  /** For example "User:alice". */
  principal: string;
  operation: number;
  /** ALLOW when absent. */
  permissionType?: number;
}

export interface AuthzNode {
  running: RunningBroker;
  /** kafkajs for the user (retries off, so that errors surface at once). */
  kafka(user: TestUser, clientId?: string): Kafka;
  /** A raw connection authenticated as the user; closed by close(). */
  connect(user: TestUser): Promise<KafkaConnection>;
  /** Creates the ACLs (any host) as the super user, through kafkajs. */
  grant(acls: TestAcl[]): Promise<void>;
  close(): Promise<void>;
}

export async function startAuthzNode(name: string, extraConfig: string[] = []): Promise<AuthzNode> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `brook-${name}-`));
  const file = `${dataDir}.properties`;
  const users = (Object.keys(PASSWORDS) as TestUser[])
    .map((user) => `SCRAM-SHA-512=[name=${user},password=${PASSWORDS[user]}]`)
    .join(';');
  fs.writeFileSync(
    file,
    [
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      `brook.security.bootstrap.scram.users=${users}`,
      'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users=User:admin',
      ...extraConfig,
    ].join('\n'),
  );
  const running = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': dataDir,
      'log-level': 'error',
      config: file,
    }),
    silentLogger,
    { kafkaListenerSecurity: { securityProtocol: 'SASL_PLAINTEXT' } },
  );
  const connections: KafkaConnection[] = [];
  const kafka = (user: TestUser, clientId = `authz-${user}`) =>
    new Kafka({
      clientId,
      brokers: [`127.0.0.1:${running.kafkaPort}`],
      sasl: { mechanism: 'scram-sha-512', username: user, password: PASSWORDS[user] },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 5000,
    });
  return {
    running,
    kafka,
    async grant(acls) {
      const admin = kafka('admin').admin();
      await admin.connect();
      try {
        await admin.createAcls({
          acl: acls.map((acl) => ({
            resourceType: acl.resourceType,
            resourceName: acl.resourceName,
            resourcePatternType: acl.patternType ?? PatternType.LITERAL,
            principal: acl.principal,
            host: '*',
            operation: acl.operation,
            permissionType: acl.permissionType ?? AclPermission.ALLOW,
          })),
        });
      } finally {
        await admin.disconnect();
      }
    },
    async connect(user) {
      const connection = new KafkaConnection({
        host: '127.0.0.1',
        port: running.kafkaPort,
        clientId: `authz-raw-${user}`,
        requestTimeoutMs: 10_000,
        security: {
          protocol: 'SASL_PLAINTEXT',
          sasl: { mechanism: 'SCRAM-SHA-512', username: user, password: PASSWORDS[user] },
        },
      });
      await connection.connect();
      connections.push(connection);
      return connection;
    },
    async close() {
      for (const c of connections) c.close();
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(file, { force: true });
    },
  };
}
