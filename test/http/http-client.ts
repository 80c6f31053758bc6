// A small HTTP client for the HTTP API tests: JSON in and out, raw bodies and headers when
// a test needs to send something broken, and a bounded wait for /ready.

import * as http from 'node:http';
import * as https from 'node:https';
import { until } from '../helpers/wait';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export function request(
  port: number,
  method: string,
  path: string,
  options: {
    body?: unknown;
    raw?: string | Buffer;
    contentType?: string | null;
    timeoutMs?: number;
    /** Extra request headers (Authorization, Cookie, Host, Origin ...). */
    headers?: Record<string, string>;
    /** Speak HTTPS, trusting this CA certificate (PEM). */
    ca?: string;
  } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload =
      options.raw !== undefined
        ? Buffer.from(options.raw)
        : options.body !== undefined
          ? Buffer.from(JSON.stringify(options.body))
          : null;
    const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
    if (payload) {
      headers['content-length'] = payload.length;
      const type = options.contentType === undefined ? 'application/json' : options.contentType;
      if (type !== null) headers['content-type'] = type;
    }
    const target = { host: '127.0.0.1', port, method, path, headers, timeout: options.timeoutMs ?? 30_000 };
    const req = (options.ca ? https : http).request(options.ca ? { ...target, ca: options.ca } : target, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = undefined;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (payload) req.end(payload);
    else req.end();
  });
}

/** Polls /ready until it answers 200 (bounded). */
export async function waitReady(port: number, timeoutMs = 20_000): Promise<void> {
  let last = '';
  await until(
    async () => {
      try {
        const answer = await request(port, 'GET', '/ready', { timeoutMs: 2000 });
        if (answer.status === 200) return true;
        last = answer.text;
      } catch (error) {
        last = String(error);
      }
      return false;
    },
    { what: () => `/ready to answer 200 (last: ${last})`, timeoutMs },
  );
}
