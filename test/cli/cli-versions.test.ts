// The CLI negotiates versions with ApiVersions, as the client library does: against a
// scripted node that serves Metadata only up to v9 and ListGroups only up to v2, `topics
// list` and `groups list` go out at those versions (not the newest brook speaks) and
// print what the node answered; a node that serves no Metadata at all gets one clear line
// and exit code 1.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBrook } from '../helpers/brook-cli';
import { scriptedNode } from '../helpers/scripted-node';

function metadataAnswer(port: number) {
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
    clusterId: 'scripted',
    controllerId: 1,
    topics: ['alpha', 'beta'].map((name) => ({
      errorCode: 0,
      name,
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      isInternal: false,
      partitions: [
        {
          errorCode: 0,
          partitionIndex: 0,
          leaderId: 1,
          leaderEpoch: 0,
          replicaNodes: [1],
          isrNodes: [1],
          offlineReplicas: [],
        },
      ],
      topicAuthorizedOperations: -2147483648,
    })),
    clusterAuthorizedOperations: -2147483648,
  };
}

test('topics list and groups list use the newest versions the node serves', async () => {
  const versions = [
    { apiKey: 3, minVersion: 0, maxVersion: 9 },
    { apiKey: 16, minVersion: 0, maxVersion: 2 },
    { apiKey: 18, minVersion: 0, maxVersion: 3 },
  ];
  const node = await scriptedNode(versions, ({ apiKey }, port) => {
    if (apiKey === 3) return metadataAnswer(port);
    if (apiKey === 16)
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        groups: [{ groupId: 'readers', protocolType: 'consumer', groupState: 'Stable' }],
      };
    return 'drop';
  });
  try {
    const listed = await runBrook(['topics', 'list', '--bootstrap', `127.0.0.1:${node.port}`]);
    assert.is(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n');
    assert.is(lines.length, 3, listed.stdout);
    assert.match(lines[1], /^alpha\s+1\s+1\b/);
    assert.match(lines[2], /^beta\s+1\s+1\b/);
    const groups = await runBrook(['groups', 'list', '--bootstrap', `127.0.0.1:${node.port}`, '--json']);
    assert.is(groups.code, 0, groups.stderr);
    assert.match(groups.stdout, /readers/);
    const metadataVersions = new Set(node.seen.filter((r) => r.apiKey === 3).map((r) => r.apiVersion));
    assert.equal([...metadataVersions], [9], 'Metadata at v9, the newest the node serves');
    const listGroupsVersions = new Set(node.seen.filter((r) => r.apiKey === 16).map((r) => r.apiVersion));
    assert.equal([...listGroupsVersions], [2], 'ListGroups at v2');
  } finally {
    node.close();
  }
});

test('a node that serves no Metadata: one clear line, exit code 1', async () => {
  const node = await scriptedNode([{ apiKey: 18, minVersion: 0, maxVersion: 3 }], () => 'drop');
  try {
    const listed = await runBrook(['topics', 'list', '--bootstrap', `127.0.0.1:${node.port}`]);
    assert.is(listed.code, 1);
    assert.match(listed.stderr, /does not serve Metadata in a version brook speaks/);
    assert.is(listed.stderr.trim().split('\n').length, 1, listed.stderr);
    assert.not.ok(
      node.seen.some((r) => r.apiKey === 3),
      'no Metadata request was sent',
    );
  } finally {
    node.close();
  }
});

test.run();
