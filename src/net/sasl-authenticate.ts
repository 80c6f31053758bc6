// The SASL exchange of a client connection as Kafka's clients run it: ApiVersions (to learn
// the SaslHandshake and SaslAuthenticate versions), SaslHandshake v1 naming the mechanism,
// then SaslAuthenticate rounds carrying the mechanism's messages until it is done. Re-
// authentication (KIP-368) repeats the handshake and the rounds on the same connection.

import { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';
import { ErrorCode, errorInfo } from '../../protocol/errors';
import { createSaslExchange, SaslAuthenticationError, type ClientSasl } from '../security/sasl-client';

/** SaslHandshake v1 is what makes SaslAuthenticate the carrier (v0 sent raw tokens). */
const SASL_HANDSHAKE_VERSION = 1;
/** SaslAuthenticate v2 is flexible; v1 added the session lifetime. */
const SASL_AUTHENTICATE_VERSION_MAX = 2;
/** Rounds after which an exchange that has not finished is abandoned (SCRAM needs two). */
const SASL_ROUNDS_MAX = 8;

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** What the exchange needs from its connection (requests here bypass the re-authentication gate). */
export interface SaslChannel {
  request<K extends ApiKey>(apiKey: K, apiVersion: number, body: RequestInput<K>): Promise<Response<K>>;
}

export interface SaslSession {
  mechanism: string;
  /** The broker's session lifetime (SaslAuthenticate v1+); 0: no re-authentication needed. */
  sessionLifetimeMs: number;
  /** The broker's API versions, asked before the first authentication. */
  apiVersions: ApiVersionRange[] | null;
  authenticateVersion: number;
  reauthentications: number;
}

/** The broker refused the client's credentials or mechanism: retrying will not help. */
export class AuthenticationFailedError extends Error {
  override name = 'AuthenticationFailedError';
  readonly retriable = false;
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/**
 * Runs one SASL authentication on a connected socket. `previous`: the session being
 * renewed (its versions are reused; no ApiVersions is sent).
 */
export async function authenticateSasl(
  channel: SaslChannel,
  sasl: ClientSasl,
  address: string,
  first: boolean,
  previous: SaslSession | null = null,
): Promise<SaslSession> {
  let apiVersions = previous?.apiVersions ?? null;
  let authenticateVersion = previous?.authenticateVersion ?? -1;
  if (first || authenticateVersion < 0) {
    let answer = await channel.request(ApiKey.ApiVersions, 3, {
      clientSoftwareName: 'brook-client',
      clientSoftwareVersion: '0.1.0',
    });
    if (answer.errorCode === ErrorCode.UNSUPPORTED_VERSION) answer = await channel.request(ApiKey.ApiVersions, 0, {});
    if (answer.errorCode !== ErrorCode.NONE)
      throw new Error(`ApiVersions at ${address} failed: ${errorInfo(answer.errorCode).name}`);
    apiVersions = answer.apiKeys.map((range) => ({
      apiKey: range.apiKey,
      minVersion: range.minVersion,
      maxVersion: range.maxVersion,
    }));
    const handshake = apiVersions.find((range) => range.apiKey === ApiKey.SaslHandshake);
    const authenticate = apiVersions.find((range) => range.apiKey === ApiKey.SaslAuthenticate);
    if (!handshake || handshake.maxVersion < SASL_HANDSHAKE_VERSION || !authenticate)
      throw new AuthenticationFailedError(
        `the broker at ${address} does not serve SaslHandshake v1 and SaslAuthenticate: is this a SASL listener?`,
        ErrorCode.UNSUPPORTED_VERSION,
      );
    authenticateVersion = Math.min(SASL_AUTHENTICATE_VERSION_MAX, authenticate.maxVersion);
    if (authenticateVersion < authenticate.minVersion)
      throw new AuthenticationFailedError(
        `the broker at ${address} serves no SaslAuthenticate version this client speaks`,
        ErrorCode.UNSUPPORTED_VERSION,
      );
  }

  await handshake(channel, sasl.mechanism, address);
  const exchange = createSaslExchange(sasl);
  let message: Buffer | null = await exchange.start();
  let sessionLifetimeMs = 0;
  for (let round = 0; message !== null; round++) {
    if (round >= SASL_ROUNDS_MAX)
      throw new AuthenticationFailedError(
        `SASL ${sasl.mechanism} with ${address} did not finish`,
        ErrorCode.ILLEGAL_SASL_STATE,
      );
    const answer = await saslAuthenticate(channel, authenticateVersion, message);
    if (answer.errorCode !== ErrorCode.NONE) {
      // The broker's message is meant for the user (Kafka's wording); ours when it sent none.
      const why = answer.errorMessage ? `: ${answer.errorMessage.slice(0, 500)}` : '';
      throw new AuthenticationFailedError(
        `SASL ${sasl.mechanism} authentication with ${address} failed: ${errorInfo(answer.errorCode).name}${why}`,
        answer.errorCode,
      );
    }
    sessionLifetimeMs = answer.sessionLifetimeMs;
    try {
      message = exchange.evaluate(answer.authBytes);
    } catch (error) {
      if (error instanceof SaslAuthenticationError)
        throw new AuthenticationFailedError(
          `SASL ${sasl.mechanism} authentication with ${address} failed: ${error.message}`,
          ErrorCode.SASL_AUTHENTICATION_FAILED,
        );
      throw error;
    }
  }
  return {
    mechanism: sasl.mechanism,
    sessionLifetimeMs,
    apiVersions,
    authenticateVersion,
    reauthentications: previous ? previous.reauthentications + 1 : 0,
  };
}

async function handshake(channel: SaslChannel, mechanism: string, address: string): Promise<void> {
  const answer = await channel.request(ApiKey.SaslHandshake, SASL_HANDSHAKE_VERSION, { mechanism });
  if (answer.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM)
    throw new AuthenticationFailedError(
      `the broker at ${address} does not enable SASL mechanism ${mechanism} (it enables: ${answer.mechanisms.join(', ') || 'none'})`,
      answer.errorCode,
    );
  if (answer.errorCode !== ErrorCode.NONE)
    throw new AuthenticationFailedError(
      `SaslHandshake with ${address} failed: ${errorInfo(answer.errorCode).name}`,
      answer.errorCode,
    );
}

interface AuthenticateAnswer {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
  sessionLifetimeMs: number;
}

async function saslAuthenticate(channel: SaslChannel, version: number, authBytes: Buffer): Promise<AuthenticateAnswer> {
  const answer = await channel.request(ApiKey.SaslAuthenticate, version, { authBytes });
  return {
    errorCode: answer.errorCode,
    errorMessage: answer.errorMessage ?? null,
    authBytes: answer.authBytes ?? Buffer.alloc(0),
    sessionLifetimeMs: Number(answer.sessionLifetimeMs ?? 0),
  };
}
