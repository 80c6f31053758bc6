// An https JWKS endpoint (sasl.oauthbearer.jwks.endpoint.url=https://...): fetched once at
// start (the start fails if it cannot be read), then again every
// sasl.oauthbearer.jwks.endpoint.refresh.ms, and early when a token names a kid no key has
// (at most once per JWKS_UNKNOWN_KID_REFRESH_MS, so unknown kids cannot make the broker
// hammer the identity provider). Each fetch is bounded in time and size; a failed refresh
// keeps the keys already known and logs one line.

import * as https from 'node:https';
import { Logger } from '../logger';
import {
  JWKS_FILE_BYTES_MAX,
  JwksEndpointSettings,
  JwtConfigError,
  JwtKey,
  JwtSettings,
  JwtValidator,
  parseJwks,
  readBoundedFile,
} from './jwt';

export const JWKS_FETCH_TIMEOUT_MS = 10_000;
export const JWKS_UNKNOWN_KID_REFRESH_MS = 10_000;
/** PEM bundle bound for brook.sasl.oauthbearer.jwks.endpoint.ca.file. */
const CA_FILE_BYTES_MAX = 1024 * 1024;

/** GETs a JWKS over https: status 200, at most JWKS_FILE_BYTES_MAX bytes, within the timeout. */
export function fetchJwks(url: string, ca: Buffer | undefined, timeoutMs = JWKS_FETCH_TIMEOUT_MS): Promise<JwtKey[]> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ca, timeout: timeoutMs, headers: { accept: 'application/json' } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new JwtConfigError(`JWKS endpoint answered HTTP ${response.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > JWKS_FILE_BYTES_MAX) {
          request.destroy(new JwtConfigError(`JWKS endpoint sent more than ${JWKS_FILE_BYTES_MAX} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        try {
          resolve(parseJwks(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error);
        }
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new JwtConfigError(`JWKS endpoint did not answer in ${timeoutMs} ms`)));
    request.on('error', (error) =>
      reject(error instanceof JwtConfigError ? error : new JwtConfigError(`JWKS endpoint: ${error.message}`)),
    );
  });
}

export class JwksEndpoint {
  private timer: NodeJS.Timeout | undefined;
  private lastEarlyRefreshMs = 0;
  private inFlight: Promise<void> | null = null;
  private closed = false;
  private readonly ca: Buffer | undefined;

  constructor(
    private readonly endpoint: JwksEndpointSettings,
    private readonly validator: JwtValidator,
    private readonly logger: Logger,
  ) {
    this.ca = endpoint.caFile
      ? readBoundedFile(endpoint.caFile, CA_FILE_BYTES_MAX, 'brook.sasl.oauthbearer.jwks.endpoint.ca.file')
      : undefined;
  }

  /** The first fetch; throws JwtConfigError when the keys cannot be had. */
  async start(): Promise<void> {
    const keys = await fetchJwks(this.endpoint.url, this.ca);
    if (keys.length === 0) throw new JwtConfigError('the JWKS endpoint holds no signing key');
    this.validator.setKeys(keys);
    this.validator.onUnknownKid = () => this.refreshEarly();
    this.timer = setInterval(() => void this.refresh(), this.endpoint.refreshMs);
    this.timer.unref();
  }

  private refreshEarly(): void {
    const now = Date.now();
    if (now - this.lastEarlyRefreshMs < JWKS_UNKNOWN_KID_REFRESH_MS) return;
    this.lastEarlyRefreshMs = now;
    void this.refresh();
  }

  /** Fetches the keys again; on failure the known keys stay. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.inFlight ??= fetchJwks(this.endpoint.url, this.ca)
      .then(
        (keys) => {
          if (keys.length > 0 && !this.closed) this.validator.setKeys(keys);
        },
        (error: Error) => this.logger.warn('JWKS refresh failed; the known keys stay', { error: error.message }),
      )
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }
}

/** A validator for the settings, with its https JWKS fetched (and kept fresh) when one is configured. */
export async function startJwtValidator(
  settings: JwtSettings,
  logger: Logger,
): Promise<{ validator: JwtValidator; endpoint: JwksEndpoint | null }> {
  const validator = new JwtValidator(settings);
  if (!settings.jwksEndpoint) return { validator, endpoint: null };
  const endpoint = new JwksEndpoint(settings.jwksEndpoint, validator, logger);
  await endpoint.start();
  return { validator, endpoint };
}
