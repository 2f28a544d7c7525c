/** Small HTTP helpers shared by the test server's endpoints: JSON answers in OpenAI's error shape, the bearer-key check. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function errorBody(
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
): ErrorBody {
  return { error: { message, type, param, code } };
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * The bearer-key check: null when the request may pass (no key required, or
 * the right one), else the 401 body to send. The key is masked like OpenAI
 * does, unless `echo` (a careless proxy, to test scrubbing).
 */
export function checkAuth(
  req: IncomingMessage,
  apiKey: string | undefined,
  echo: boolean | undefined,
): ErrorBody | null {
  if (apiKey === undefined) return null;
  const auth = req.headers.authorization ?? '';
  const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  if (given === apiKey) return null;
  const shown = echo ? given : given.slice(0, 3) + '*'.repeat(Math.max(0, given.length - 7)) + given.slice(-4);
  return errorBody(
    `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    'invalid_request_error',
    'invalid_api_key',
  );
}
