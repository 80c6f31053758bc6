// A scripted Kafka node that speaks the security side of the protocol, for client tests that
// must not depend on the broker's own SASL and TLS: optionally TLS (a certificate made with
// openssl), ApiVersions, SaslHandshake v0-1 and SaslAuthenticate v0-2 as Kafka's broker
// answers them (PLAIN, SCRAM-SHA-256/512 with a server-side exchange built on
// src/security/scram.ts, OAUTHBEARER with one accepted token), a session lifetime
// (KIP-368), and a fixed Metadata answer naming itself. Requests before authentication
// close the connection, as Kafka's broker does.

import * as crypto from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { encodeResponseFrame, FrameAssembler } from '../../protocol/frame';
import { decodeRequestHeader } from '../../protocol/header';
import { Reader, Writer } from '../../protocol/primitives';
import { deriveScramCredential, hash, hmac, ScramCredential, ScramMechanism } from '../../src/security/scram';

export interface TestCertificate {
  /** PEM of the server certificate and its key. */
  cert: string;
  key: string;
  /** When set, client certificates signed by this CA are required (ssl.client.auth=required). */
  clientCa?: string;
}

export interface SecureNodeOptions {
  /** Serve TLS with this certificate; plaintext when absent. */
  tls?: TestCertificate;
  /** Mechanisms enabled (default: all four). */
  mechanisms?: string[];
  users?: Record<string, string>;
  /** The only OAUTHBEARER token accepted. */
  oauthToken?: string;
  /** SaslAuthenticate v1+ session lifetime to give (0: none). */
  sessionLifetimeMs?: number;
  /** Highest SaslAuthenticate version advertised (default 2). */
  authenticateVersionMax?: number;
}

export interface SecureNode {
  port: number;
  /** Successful authentications, re-authentications included, in order. */
  authentications: { user: string; mechanism: string; connection: number }[];
  /** Failed authentications. */
  failures: number;
  /** Connections accepted. */
  connections: number;
  /** API keys of the requests served after authentication, in order. */
  served: number[];
  /** Subjects of the client certificates presented (TLS with clientCa). */
  clientSubjects: string[];
  close(): void;
}

const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

interface ConnectionState {
  id: number;
  mechanism: string | null;
  authenticated: boolean;
  scram: {
    credential: ScramCredential;
    mechanism: ScramMechanism;
    user: string;
    authMessageStart: string;
    nonce: string;
  } | null;
  oauthFailed: boolean;
}

export async function secureScriptedNode(options: SecureNodeOptions = {}): Promise<SecureNode> {
  const mechanisms = options.mechanisms ?? ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];
  const users = options.users ?? { admin: 'admin-secret' };
  const credentials = new Map<string, ScramCredential>();
  for (const [user, password] of Object.entries(users))
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)
      credentials.set(`${mechanism}/${user}`, deriveScramCredential(mechanism, password, 4096));
  const node: SecureNode = {
    port: 0,
    authentications: [],
    failures: 0,
    connections: 0,
    served: [],
    clientSubjects: [],
    close: () => undefined,
  };
  const sockets = new Set<net.Socket>();

  const onSocket = (socket: net.Socket) => {
    sockets.add(socket);
    if (socket instanceof tls.TLSSocket && options.tls?.clientCa) {
      const subject = socket.getPeerCertificate()?.subject;
      if (subject) node.clientSubjects.push(`CN=${subject.CN}`);
    }
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const state: ConnectionState = {
      id: ++node.connections,
      mechanism: null,
      authenticated: false,
      scram: null,
      oauthFailed: false,
    };
    const frames = new FrameAssembler(1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      let complete: Buffer[];
      try {
        complete = frames.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of complete) {
        const reply = answer(frame, state);
        if (reply === null) {
          socket.destroy();
          return;
        }
        for (const part of reply) socket.write(part);
      }
    });
  };

  const answer = (frame: Buffer, state: ConnectionState): Buffer[] | null => {
    const reader = new Reader(frame);
    const header = decodeRequestHeader(reader);
    const respond = (apiKey: number, version: number, body: unknown) =>
      encodeResponseFrame(apiKey, version, header.correlationId, responseCodec(apiKey as ApiKey, version), body);
    if (header.apiKey === ApiKey.ApiVersions) {
      return respond(ApiKey.ApiVersions, Math.min(header.apiVersion, 3), {
        errorCode: 0,
        apiKeys: [
          { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12 },
          { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 },
          { apiKey: SASL_HANDSHAKE, minVersion: 0, maxVersion: 1 },
          { apiKey: SASL_AUTHENTICATE, minVersion: 0, maxVersion: options.authenticateVersionMax ?? 2 },
        ],
        throttleTimeMs: 0,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1,
        finalizedFeatures: [],
        zkMigrationReady: false,
      });
    }
    if (header.apiKey === SASL_HANDSHAKE) {
      const mechanism = reader.string();
      const enabled = mechanisms.includes(mechanism);
      state.mechanism = enabled ? mechanism : null;
      state.authenticated = false;
      const writer = new Writer();
      writer
        .int32(0)
        .int32(header.correlationId)
        .int16(enabled ? 0 : 33)
        .int32(mechanisms.length);
      for (const name of mechanisms) writer.string(name);
      return finish(writer);
    }
    if (header.apiKey === SASL_AUTHENTICATE) {
      const flexible = header.apiVersion >= 2;
      const authBytes = (flexible ? reader.compactNullableBytes() : reader.nullableBytes()) ?? Buffer.alloc(0);
      const outcome = authenticate(state, authBytes);
      if (outcome.error) node.failures++;
      const writer = new Writer();
      writer.int32(0).int32(header.correlationId);
      if (flexible) writer.uvarint(0);
      writer.int16(outcome.error ? 58 : 0);
      if (flexible) {
        writer.compactNullableString(outcome.error ?? null);
        writer.compactNullableBytes(outcome.bytes);
      } else {
        writer.nullableString(outcome.error ?? null);
        writer.nullableBytes(outcome.bytes);
      }
      if (header.apiVersion >= 1) writer.int64(outcome.done ? (options.sessionLifetimeMs ?? 0) : 0);
      if (flexible) writer.uvarint(0);
      return finish(writer);
    }
    // Kafka's broker closes a connection that sends anything else before authenticating.
    if (!state.authenticated) return null;
    node.served.push(header.apiKey);
    if (header.apiKey === ApiKey.Metadata) {
      requestCodec(ApiKey.Metadata, header.apiVersion).decode(reader);
      return respond(ApiKey.Metadata, header.apiVersion, {
        throttleTimeMs: 0,
        brokers: [{ nodeId: 1, host: '127.0.0.1', port: node.port, rack: null }],
        clusterId: 'secure-test',
        controllerId: 1,
        topics: [
          {
            errorCode: 0,
            name: 'secured',
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
          },
        ],
        clusterAuthorizedOperations: -2147483648,
        errorCode: 0,
      });
    }
    return null;
  };

  const authenticate = (state: ConnectionState, bytes: Buffer): { bytes: Buffer; error?: string; done: boolean } => {
    const fail = (error: string) => {
      state.mechanism = null;
      state.scram = null;
      return { bytes: Buffer.alloc(0), error, done: false };
    };
    const succeed = (user: string, serverBytes = Buffer.alloc(0)) => {
      node.authentications.push({ user, mechanism: state.mechanism!, connection: state.id });
      state.authenticated = true;
      return { bytes: serverBytes, done: true };
    };
    const text = bytes.toString('utf8');
    switch (state.mechanism) {
      case 'PLAIN': {
        const [, user, password] = text.split('\0');
        if (users[user] === undefined || users[user] !== password)
          return fail('Authentication failed: Invalid username or password');
        return succeed(user);
      }
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512': {
        const mechanism = state.mechanism;
        if (!state.scram) {
          const bare = text.slice(3);
          const user = /^n=([^,]*),r=/.exec(bare)?.[1] ?? '';
          const clientNonce = bare.slice(bare.indexOf(',r=') + 3);
          const credential = credentials.get(`${mechanism}/${user}`);
          // Kafka answers an unknown user with a fake salt and fails later; one step is enough here.
          if (!credential)
            return fail(
              'Authentication failed during authentication due to invalid credentials with SASL mechanism ' + mechanism,
            );
          const nonce = clientNonce + crypto.randomBytes(18).toString('base64');
          const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
          state.scram = { credential, mechanism, user, authMessageStart: `${bare},${serverFirst}`, nonce };
          return { bytes: Buffer.from(serverFirst), done: false };
        }
        const scram = state.scram;
        state.scram = null;
        const proofAt = text.indexOf(',p=');
        const withoutProof = text.slice(0, proofAt);
        if (withoutProof !== `c=biws,r=${scram.nonce}`) return fail('Authentication failed: invalid nonce');
        const authMessage = `${scram.authMessageStart},${withoutProof}`;
        const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
        const signature = hmac(scram.mechanism, scram.credential.storedKey, authMessage);
        const clientKey = Buffer.from(proof.map((byte, i) => byte ^ signature[i]));
        if (!hash(scram.mechanism, clientKey).equals(scram.credential.storedKey))
          return fail(
            `Authentication failed during authentication due to invalid credentials with SASL mechanism ${scram.mechanism}`,
          );
        const serverSignature = hmac(scram.mechanism, scram.credential.serverKey, authMessage);
        return succeed(scram.user, Buffer.from(`v=${serverSignature.toString('base64')}`));
      }
      case 'OAUTHBEARER': {
        if (state.oauthFailed) {
          state.oauthFailed = false;
          return fail('Authentication failed: invalid token');
        }
        const token = /auth=Bearer ([^\x01]+)\x01/.exec(text)?.[1];
        if (token === undefined || token !== options.oauthToken) {
          state.oauthFailed = true;
          return { bytes: Buffer.from('{"status":"invalid_token"}'), done: false };
        }
        return succeed('oauth-user');
      }
      default:
        return fail('SaslAuthenticate before a successful SaslHandshake');
    }
  };

  const server = options.tls
    ? tls.createServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ca: options.tls.clientCa,
          requestCert: options.tls.clientCa !== undefined,
          rejectUnauthorized: options.tls.clientCa !== undefined,
        },
        onSocket,
      )
    : net.createServer(onSocket);
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  node.port = (server.address() as net.AddressInfo).port;
  node.close = () => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
  return node;
}

function finish(writer: Writer): Buffer[] {
  writer.patchInt32(0, writer.length - 4);
  return writer.toBuffers();
}
