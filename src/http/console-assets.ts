// Serves the web console's static files (src/http/console/) at / and /console/*: read at
// run time relative to the package root, with content types, strong ETags and revalidation,
// and any path that would leave the console folder refused.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

/**
 * The compiled file lives in dist/src/http/, the assets in src/http/console/ of the
 * package root; the ts-node style layout (src/http/) is tried second.
 */
export function defaultConsoleRoot(): string {
  const fromDist = path.resolve(__dirname, '..', '..', '..', 'src', 'http', 'console');
  if (fs.existsSync(fromDist)) return fromDist;
  return path.resolve(__dirname, 'console');
}

/** Files larger than this are not console assets and are not served. */
export const CONSOLE_ASSET_BYTES_MAX = 2 * 1024 * 1024;
/** Cached file contents, by path; the console has a few dozen files. */
export const CONSOLE_ASSET_CACHE_ENTRIES_MAX = 128;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

interface CachedAsset {
  body: Buffer;
  etag: string;
  mtimeMs: number;
  size: number;
}

export class ConsoleAssets {
  private readonly cache = new Map<string, CachedAsset>();

  constructor(private readonly root: string = defaultConsoleRoot()) {}

  /** True when this request is for the console (and has been answered). */
  handles(pathname: string): boolean {
    return pathname === '/' || pathname === '/console' || pathname.startsWith('/console/');
  }

  serve(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, 405, 'method-not-allowed', `The console's files are read with GET, not ${req.method}.`, {
        allow: 'GET, HEAD',
      });
    }
    if (pathname === '/' || pathname === '/console' || pathname === '/console/') {
      return this.serveFile(req, res, 'index.html');
    }
    let relative: string;
    try {
      relative = decodeURIComponent(pathname.slice('/console/'.length));
    } catch {
      return sendError(res, 400, 'bad-path', 'The path is not valid percent-encoding.');
    }
    // Refuse traversal outright rather than normalising it away: no "..", no absolute or
    // backslash paths, no NUL bytes, and no hidden files.
    const segments = relative.split('/');
    if (
      relative.includes('\0') ||
      relative.includes('\\') ||
      path.isAbsolute(relative) ||
      segments.some((s) => s === '..' || s === '.' || s.startsWith('.') || s === '')
    ) {
      return sendError(res, 400, 'bad-path', 'That path is not allowed.');
    }
    this.serveFile(req, res, relative);
  }

  private serveFile(req: http.IncomingMessage, res: http.ServerResponse, relative: string): void {
    const file = path.resolve(this.root, relative);
    if (!file.startsWith(this.root + path.sep)) return sendError(res, 400, 'bad-path', 'That path is not allowed.');
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()];
    if (!type) return sendError(res, 404, 'not-found', `There is no console file ${relative}.`);
    let asset: CachedAsset;
    try {
      asset = this.load(file);
    } catch {
      return sendError(res, 404, 'not-found', `There is no console file ${relative}.`);
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-type': type,
      etag: asset.etag,
      // Always revalidated: a new version of the node serves new files at the same paths.
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    };
    if (type.startsWith('text/html')) {
      headers['content-security-policy'] =
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";
    }
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['content-length'] = asset.body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  private load(file: string): CachedAsset {
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > CONSOLE_ASSET_BYTES_MAX) throw new Error('not a console asset');
    const cached = this.cache.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    const body = fs.readFileSync(file);
    const etag = `"${crypto.createHash('sha1').update(body).digest('base64url')}"`;
    const asset = { body, etag, mtimeMs: stat.mtimeMs, size: stat.size };
    if (this.cache.size >= CONSOLE_ASSET_CACHE_ENTRIES_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(file, asset);
    return asset;
  }
}

function sendError(
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: http.OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}
