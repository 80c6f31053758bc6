// The body of a console login (POST /api/v1/login): the login page's form
// (application/x-www-form-urlencoded, no script needed) or JSON, a user name and a
// password, at most LOGIN_BODY_BYTES_MAX bytes.

import type * as http from 'node:http';
import { HttpError } from './http-errors';

/** Login bodies above this are refused (a name and a password). */
export const LOGIN_BODY_BYTES_MAX = 16 * 1024;

export async function readLogin(
  req: http.IncomingMessage,
): Promise<{ form: boolean; username: string; password: string }> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const form = type === 'application/x-www-form-urlencoded';
  if (!form && type !== 'application/json')
    throw new HttpError(415, 'unsupported-media-type', 'log in with a JSON body or the login form');
  const text = await readSmallBody(req, LOGIN_BODY_BYTES_MAX);
  let username: unknown;
  let password: unknown;
  if (form) {
    const params = new URLSearchParams(text);
    username = params.get('username');
    password = params.get('password');
  } else {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'bad-json', 'the body is not valid JSON');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new HttpError(400, 'bad-request', 'expected {"username": "...", "password": "..."}');
    ({ username, password } = body as Record<string, unknown>);
  }
  if (typeof username !== 'string' || typeof password !== 'string' || username === '')
    throw new HttpError(400, 'bad-request', 'a login needs a username and a password (strings)');
  return { form, username, password };
}

function readSmallBody(req: http.IncomingMessage, bytesMax: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > bytesMax) {
        done = true;
        chunks.length = 0;
        reject(new HttpError(413, 'body-too-large', `a login body is at most ${bytesMax} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      if (!done) reject(new HttpError(400, 'bad-request', 'reading the body failed'));
      done = true;
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
