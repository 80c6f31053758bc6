// The console's client for the node's REST API (/api/v1): JSON in and out, and every failure
// turned into an Error whose message a person can read (the API's error.message). Every
// request carries the X-Brook-CSRF header the node asks of writes made with the session
// cookie; a 401 (no session, or it ended) sends the browser to the login page.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Requests longer than this are given up on with a readable error. */
const REQUEST_TIMEOUT_MS = 30000;

export const LOGIN_PAGE = '/console/login.html';
const CSRF_HEADER = 'x-brook-csrf';

/** Leaves for the login page (once), so a person can log in again. */
export function toLogin() {
  if (location.pathname !== LOGIN_PAGE) location.assign(LOGIN_PAGE);
}

export async function api(method, path, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? { [CSRF_HEADER]: '1' } : { [CSRF_HEADER]: '1', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
  } catch (error) {
    throw new ApiError(
      0,
      'unreachable',
      controller.signal.aborted
        ? `The node did not answer within ${REQUEST_TIMEOUT_MS / 1000} seconds.`
        : 'Cannot reach the Brook node. Is it running, and is its HTTP listener on?',
    );
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 401) {
    toLogin();
    throw new ApiError(401, 'unauthorized', 'Not logged in (or the session ended). Opening the login page.');
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    if (!response.ok)
      throw new ApiError(
        response.status,
        'http-' + response.status,
        `The node answered ${response.status} ${response.statusText}.`,
      );
    throw new ApiError(response.status, 'bad-answer', 'The node sent an answer that is not JSON.');
  }
  if (!response.ok) {
    const error = parsed && typeof parsed.error === 'object' ? parsed.error : null;
    throw new ApiError(
      response.status,
      error?.code ?? 'http-' + response.status,
      error?.message ?? `The node answered ${response.status} ${response.statusText}.`,
    );
  }
  return parsed;
}

export const encode = encodeURIComponent;
