/**
 * The Files API of the test server: `POST /v1/files` (multipart upload),
 * `GET /v1/files` (list), `GET /v1/files/{id}`, `GET /v1/files/{id}/content`
 * (streamed; a cut can end it midway), `DELETE /v1/files/{id}`. Files live in
 * memory. Uploads with purpose `batch` must be `.jsonl` and at most
 * `maxFileBytes`; their lines are checked when a batch validates them (see
 * openai-server-batches.ts), as OpenAI does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cursorPage, errorBody, parseMultipart, queryOf, send } from './openai-server-http.js';
import type { BatchStats } from './openai-server-batch-types.js';

export const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
  status_details: null;
  expires_at: number | null;
}

export interface StoredFile {
  meta: FileObject;
  content: Buffer;
}

/** A download to cut off: the next `left` downloads of `fileId` (any file when unset) end after `afterBytes` (default half). */
export interface DownloadCut {
  fileId?: string;
  afterBytes?: number;
  left: number;
}

export class FileStore {
  readonly files = new Map<string, StoredFile>();
  cuts: DownloadCut[] = [];

  constructor(
    private readonly newId: () => string,
    private readonly now: () => number,
  ) {}

  add(purpose: string, filename: string, content: Buffer): StoredFile {
    const id = this.newId();
    const meta: FileObject = {
      id,
      object: 'file',
      bytes: content.length,
      created_at: Math.floor(this.now() / 1000),
      filename,
      purpose,
      status: 'processed',
      status_details: null,
      expires_at: null,
    };
    const file = { meta, content };
    this.files.set(id, file);
    return file;
  }

  clear(): void {
    this.files.clear();
    this.cuts = [];
  }

  /** The cut that applies to this download, if any (and count it used). */
  takeCut(fileId: string): DownloadCut | undefined {
    const cut = this.cuts.find((c) => c.left > 0 && (c.fileId === undefined || c.fileId === fileId));
    if (cut) cut.left--;
    return cut;
  }
}

function noSuchFile(res: ServerResponse, id: string): void {
  send(res, 404, errorBody(`No such File object: ${id}`, 'invalid_request_error', null, 'id'));
}

/** Stream `content` with back-pressure; with `cutAfter`, end the connection after that many bytes. */
function stream(res: ServerResponse, content: Buffer, cutAfter?: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': content.length });
  const end = cutAfter === undefined ? content.length : Math.max(0, Math.min(cutAfter, content.length - 1));
  const chunk = 64 * 1024;
  let pos = 0;
  const pump = (): void => {
    while (pos < end) {
      const piece = content.subarray(pos, Math.min(end, pos + chunk));
      pos += piece.length;
      if (pos >= end && cutAfter !== undefined) {
        res.write(piece, () => res.destroy());
        return;
      }
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    if (cutAfter !== undefined) res.destroy();
    else res.end();
  };
  pump();
}

/**
 * Handle a /files request. `parts` is the path after `/files` split on `/`
 * (`[]`, `[id]` or `[id, 'content']`).
 */
export function handleFiles(
  store: FileStore,
  stats: BatchStats,
  maxFileBytes: number,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  parts: string[],
): void {
  const method = req.method;
  const [id, sub, ...rest] = parts;
  if (rest.length > 0 || (sub !== undefined && sub !== 'content')) {
    return send(res, 404, errorBody(`Unknown request URL: ${method} ${req.url}`, 'invalid_request_error'));
  }
  if (id === undefined && method === 'POST') return upload(store, stats, maxFileBytes, req, res, body);
  if (id === undefined && method === 'GET') {
    const query = queryOf(req.url);
    const purpose = query.get('purpose');
    const all = [...store.files.values()].map((f) => f.meta).filter((m) => purpose === null || m.purpose === purpose);
    const page = cursorPage(query.get('order') === 'asc' ? all : all.reverse(), query);
    return send(res, page.ok ? 200 : 400, page.body);
  }
  if (id === undefined)
    return send(res, 405, errorBody(`Method ${method} not allowed on /files`, 'invalid_request_error'));
  const file = store.files.get(id);
  if (method === 'GET' && sub === undefined) return file ? send(res, 200, file.meta) : noSuchFile(res, id);
  if (method === 'GET' && sub === 'content') {
    if (!file) return noSuchFile(res, id);
    stats.downloads++;
    const cut = store.takeCut(id);
    if (cut) stats.cutDownloads++;
    return stream(res, file.content, cut ? (cut.afterBytes ?? Math.floor(file.content.length / 2)) : undefined);
  }
  if (method === 'DELETE' && sub === undefined) {
    if (!file) return noSuchFile(res, id);
    store.files.delete(id);
    stats.filesDeleted++;
    return send(res, 200, { id, object: 'file', deleted: true });
  }
  send(res, 405, errorBody(`Method ${method} not allowed on ${req.url}`, 'invalid_request_error'));
}

function upload(
  store: FileStore,
  stats: BatchStats,
  maxFileBytes: number,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): void {
  const bad = (message: string, param: string | null = null) =>
    send(res, 400, errorBody(message, 'invalid_request_error', null, param));
  const form = parseMultipart(req.headers['content-type'], body);
  if (!form) return bad('Expected a multipart/form-data body with the fields `file` and `purpose`.');
  const purposePart = form.find((p) => p.name === 'purpose' && p.filename === undefined);
  const filePart = form.find((p) => p.name === 'file');
  if (!purposePart) return bad("Missing required parameter: 'purpose'.", 'purpose');
  if (!filePart) return bad("Missing required parameter: 'file'.", 'file');
  const purpose = purposePart.data.toString('utf8');
  if (!(FILE_PURPOSES as readonly string[]).includes(purpose)) {
    return bad(`'${purpose}' is not one of ${FILE_PURPOSES.map((p) => `'${p}'`).join(', ')} - 'purpose'`, 'purpose');
  }
  const filename = filePart.filename || 'upload';
  if (purpose === 'batch') {
    if (!filename.toLowerCase().endsWith('.jsonl'))
      return bad('Invalid file format for Batch API. Must be .jsonl', 'file');
    if (filePart.data.length > maxFileBytes) {
      return bad(`File is too large for Batch API: ${filePart.data.length} bytes, at most ${maxFileBytes}.`, 'file');
    }
  }
  const file = store.add(purpose, filename, Buffer.from(filePart.data));
  stats.filesUploaded++;
  send(res, 200, file.meta);
}
