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
export interface FormPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** The parts of a multipart/form-data body, or null when it is not one. */
export function parseMultipart(contentType: string | undefined, body: Buffer): FormPart[] | null {
  const m = /^multipart\/form-data;.*\bboundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  if (!m) return null;
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(boundary);
  if (pos < 0) return null;
  while (true) {
    pos += boundary.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return parts; // closing boundary
    if (body.subarray(pos, pos + 2).toString() === '\r\n') pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return null;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), headEnd + 4);
    if (next < 0) return null;
    const head = body.subarray(pos, headEnd).toString('utf8');
    const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) return null;
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const type = /content-type:\s*([^\r\n]*)/i.exec(head)?.[1]?.trim();
    parts.push({ name, filename, contentType: type, data: body.subarray(headEnd + 4, next) });
    pos = next + 2;
  }
}

/** `?a=1&b=2` of a request URL as a map. */
export function queryOf(url: string | undefined): URLSearchParams {
  const q = (url ?? '').indexOf('?');
  return new URLSearchParams(q < 0 ? '' : (url ?? '').slice(q + 1));
}

/** A list page as OpenAI's cursor pagination answers it (`after` = the last id of the previous page). */
export function cursorPage<T extends { id: string }>(
  items: T[],
  query: URLSearchParams,
):
  | {
      ok: true;
      body: { object: 'list'; data: T[]; first_id: string | null; last_id: string | null; has_more: boolean };
    }
  | { ok: false; body: ErrorBody } {
  const limitRaw = query.get('limit');
  const limit = limitRaw === null ? 20 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    return {
      ok: false,
      body: errorBody("Invalid 'limit': must be an integer between 1 and 100.", 'invalid_request_error', null, 'limit'),
    };
  }
  let from = 0;
  const after = query.get('after');
  if (after !== null) {
    const i = items.findIndex((x) => x.id === after);
    if (i < 0)
      return {
        ok: false,
        body: errorBody(`No object with id '${after}' to list after.`, 'invalid_request_error', null, 'after'),
      };
    from = i + 1;
  }
  const data = items.slice(from, from + limit);
  return {
    ok: true,
    body: {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
      has_more: from + limit < items.length,
    },
  };
}
