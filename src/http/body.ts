// Reads a request body as JSON: only application/json (415 otherwise), at most the route's
// byte limit (413 beyond, stopped as soon as the limit is passed), and valid JSON (400).

import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors';

/** Request bodies above this are refused with 413 (one REST produce of 10,000 small records fits). */
export const REQUEST_BODY_BYTES_MAX = 1024 * 1024;

export function readJsonBody(req: IncomingMessage, bytesMax = REQUEST_BODY_BYTES_MAX): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    return Promise.reject(
      new HttpError(
        415,
        'unsupported-media-type',
        `the body must be JSON with Content-Type: application/json${type ? ` (got ${type})` : ' (none given)'}`,
      ),
    );
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > bytesMax) {
    req.resume();
    return Promise.reject(tooLarge(bytesMax));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (error: HttpError) => {
      if (done) return;
      done = true;
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > bytesMax) {
        // Stop keeping the bytes; the rest is read and dropped so the answer can be sent.
        chunks.length = 0;
        fail(tooLarge(bytesMax));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (error) => fail(new HttpError(400, 'bad-request', `reading the body failed: ${error.message}`)));
    req.on('end', () => {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '')
        return reject(new HttpError(400, 'bad-json', 'the body is empty; expected a JSON object'));
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(new HttpError(400, 'bad-json', `the body is not valid JSON: ${(error as Error).message}`));
      }
    });
  });
}

function tooLarge(bytesMax: number): HttpError {
  return new HttpError(413, 'body-too-large', `the body is larger than ${bytesMax} bytes`);
}
