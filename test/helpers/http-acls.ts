// ACLs for the HTTP tests' in-process broker, granted and revoked over the Kafka port with
// the Admin client's CreateAcls / DeleteAcls (as a super user: the PLAINTEXT listener's
// User:ANONYMOUS in these tests), then waited for in this node's metadata image, which the
// HTTP routes read.

import type { Broker } from '../../src/broker/broker';
import { Admin } from '../../src/client/admin';
import { AclBinding, AclOperation, AclPermission, bindingKey, PatternType, ResourceType } from '../../src/security/acl';
import { until } from './wait';

/** An ALLOW binding for a principal from any host (fields overridable). */
export function allow(
  principal: string,
  operation: number,
  resourceType: number,
  resourceName: string,
  more: Partial<AclBinding> = {},
): AclBinding {
  return {
    resourceType,
    resourceName,
    patternType: PatternType.LITERAL,
    principal,
    host: '*',
    operation,
    permissionType: AclPermission.ALLOW,
    ...more,
  };
}

export class TestAcls {
  private constructor(
    private readonly admin: Admin,
    private readonly broker: Broker,
  ) {}

  static async connect(bootstrap: string, broker: Broker): Promise<TestAcls> {
    const admin = new Admin({ bootstrap: [bootstrap], clientId: 'http-acls-test', requestTimeoutMs: 10_000 });
    await admin.connect();
    return new TestAcls(admin, broker);
  }

  private held(bindings: AclBinding[]): boolean {
    const keys = new Set([...this.broker.quorum.image.acls.values()].map((acl) => bindingKey(acl)));
    return bindings.every((b) => keys.has(bindingKey(b)));
  }

  /** Creates the bindings and waits until this node's image holds them. */
  async add(bindings: AclBinding[]): Promise<AclBinding[]> {
    const results = await this.admin.createAcls(bindings);
    for (const r of results) if (r.errorCode !== 0) throw new Error(`CreateAcls: ${r.errorCode} ${r.errorMessage}`);
    await until(() => this.held(bindings), { what: 'the ACLs in the metadata image', timeoutMs: 10_000 });
    return bindings;
  }

  /** Deletes exactly these bindings and waits until this node's image no longer holds them. */
  async remove(bindings: AclBinding[]): Promise<void> {
    const results = await this.admin.deleteAcls(bindings.map((b) => ({ ...b })));
    for (const r of results) if (r.errorCode !== 0) throw new Error(`DeleteAcls: ${r.errorCode} ${r.errorMessage}`);
    const gone = () => {
      const keys = new Set([...this.broker.quorum.image.acls.values()].map((acl) => bindingKey(acl)));
      return bindings.every((b) => !keys.has(bindingKey(b)));
    };
    await until(gone, { what: 'the ACLs gone from the metadata image', timeoutMs: 10_000 });
  }

  close(): void {
    this.admin.close();
  }
}

export { AclOperation, ResourceType, PatternType };
