// What every SASL connection of one listener shares: its settings, where credentials come
// from (the CredentialStore, or PLAIN's users file), the JWT validator of OAUTHBEARER, the
// per-address limiter of failed attempts and the logger. It makes one authenticator per
// connection and one mechanism per exchange.

import * as crypto from 'node:crypto';
import { Logger } from '../../logger';
import { JwksEndpoint, startJwtValidator } from '../jwks-endpoint';
import { JwtValidator, parseOauthbearerSettings } from '../jwt';
import {
  CredentialStore,
  SCRAM_ITERATIONS_MIN,
  SCRAM_SALT_BYTES,
  ScramCredential,
  verifyScramPassword,
} from '../scram';
import { ConnectionSecurity } from '../principal';
import { SaslAuthenticator } from './authenticator';
import { FailedAuthenticationLimiter } from './failure-limiter';
import { SaslServerMechanism } from './mechanism';
import { OauthbearerServer } from './oauthbearer';
import { PasswordVerifier, PlainServer } from './plain';
import { readPlainUsersFile } from './plain-users';
import { ScramServer } from './scram';
import { parseSaslSettings, SaslMechanismName, SaslSettings } from './settings';

/** A credential no password matches, verified against for unknown PLAIN users so they take as long. */
const decoyCredential: ScramCredential = {
  mechanism: 'SCRAM-SHA-512',
  salt: crypto.randomBytes(SCRAM_SALT_BYTES),
  iterations: SCRAM_ITERATIONS_MIN,
  storedKey: crypto.randomBytes(64),
  serverKey: crypto.randomBytes(64),
};

/** PLAIN checked against SCRAM credentials: SCRAM-SHA-512 first, else SCRAM-SHA-256. */
export function scramPasswordVerifier(credentials: CredentialStore): PasswordVerifier {
  return (user, password) => {
    const credential =
      credentials.scramCredential(user, 'SCRAM-SHA-512') ?? credentials.scramCredential(user, 'SCRAM-SHA-256');
    const matches = verifyScramPassword(credential ?? decoyCredential, password);
    return credential !== undefined && matches;
  };
}

export function mapPasswordVerifier(users: Map<string, ScramCredential>): PasswordVerifier {
  return (user, password) => {
    const credential = users.get(user);
    const matches = verifyScramPassword(credential ?? decoyCredential, password);
    return credential !== undefined && matches;
  };
}

export interface SaslListenerDeps {
  credentials: CredentialStore;
  logger: Logger;
  /** Wall clock (tests pass their own). */
  nowMs?: () => number;
}

export class SaslListener {
  readonly limiter: FailedAuthenticationLimiter;
  private readonly plainVerifier: PasswordVerifier;
  private readonly jwt: JwtValidator | null;
  readonly nowMs: () => number;

  constructor(
    readonly settings: SaslSettings,
    private readonly deps: SaslListenerDeps,
    jwt: JwtValidator | null = null,
  ) {
    this.limiter = new FailedAuthenticationLimiter(
      settings.failedAuthenticationsPerMinutePerIp,
      settings.failedAuthenticationTrackedIps,
    );
    this.plainVerifier = settings.plainUsersFile
      ? mapPasswordVerifier(readPlainUsersFile(settings.plainUsersFile))
      : scramPasswordVerifier(deps.credentials);
    if (settings.enabledMechanisms.includes('OAUTHBEARER') && !jwt)
      throw new Error('OAUTHBEARER is enabled but no JWT validator was given');
    this.jwt = jwt;
    this.nowMs = deps.nowMs ?? Date.now;
  }

  private endpoint: JwksEndpoint | null = null;

  /**
   * A listener from its resolved keys (sasl.*, connections.max.reauth.ms, brook.sasl.*):
   * reads the key files and fetches an https JWKS; throws naming the key that is wrong.
   */
  static async create(keys: Record<string, string>, deps: SaslListenerDeps): Promise<SaslListener> {
    const settings = parseSaslSettings(keys);
    if (!settings.enabledMechanisms.includes('OAUTHBEARER')) return new SaslListener(settings, deps);
    const { validator, endpoint } = await startJwtValidator(parseOauthbearerSettings(keys), deps.logger);
    const listener = new SaslListener(settings, deps, validator);
    listener.endpoint = endpoint;
    return listener;
  }

  /** Stops refreshing an https JWKS. */
  close(): void {
    this.endpoint?.close();
  }

  get logger(): Logger {
    return this.deps.logger;
  }

  createMechanism(name: SaslMechanismName): SaslServerMechanism {
    switch (name) {
      case 'PLAIN':
        return new PlainServer(this.plainVerifier);
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512':
        return new ScramServer(name, this.deps.credentials);
      case 'OAUTHBEARER':
        return new OauthbearerServer(this.jwt!);
    }
  }

  /** The authenticator of one new connection, which updates `security` as it goes. */
  authenticator(security: ConnectionSecurity, clientAddress: string, remote: string): SaslAuthenticator {
    return new SaslAuthenticator(this, security, clientAddress, remote);
  }
}
