// The test server's Files and Batch APIs, driven with the real `openai` SDK.
// No database: the same on both passes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import {
  fakeEmbedding,
  fromBase64,
  startOpenAIServer,
  type BatchObject,
  type OpenAIServer,
} from './support/openai-server.js';

const KEY = 'sk-batch-test-key';
const MODEL = 'tiny-model';
const DIMS = 16;
let server: OpenAIServer;
let client: OpenAI;
let dir: string;

before(async () => {
  server = await startOpenAIServer({
    apiKey: KEY,
    modelDimensions: { [MODEL]: DIMS },
    batch: { inProgressSteps: 2, maxRequests: 8, maxInputs: 12 },
  });
  client = new OpenAI({ apiKey: KEY, baseURL: server.url, maxRetries: 0 });
  dir = mkdtempSync(join(tmpdir(), 'embctl-batch-server-'));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Line {
  custom_id: string;
  method?: string;
  url?: string;
  body: Record<string, unknown>;
}

function jsonl(lines: Line[]): string {
  return lines.map((l) => JSON.stringify({ method: 'POST', url: '/v1/embeddings', ...l })).join('\n') + '\n';
}

/** `n` requests `c0..c{n-1}` of one text each (`text-<i>`). */
function simple(n: number, extra: Record<string, unknown> = {}): Line[] {
  return Array.from({ length: n }, (_, i) => ({
    custom_id: `c${i}`,
    body: { model: MODEL, input: [`text-${i}`], ...extra },
  }));
}

async function submit(lines: Line[] | string, metadata?: Record<string, string>): Promise<BatchObject> {
  const content = typeof lines === 'string' ? lines : jsonl(lines);
  const file = await client.files.create({ file: await toFile(Buffer.from(content), 'input.jsonl'), purpose: 'batch' });
  return (await client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/embeddings',
    completion_window: '24h',
    metadata,
  })) as BatchObject;
}

async function download(id: string | null | undefined): Promise<any[]> {
  assert.ok(id, 'a file id');
  const text = await (await client.files.content(id)).text();
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

function status(err: unknown): number | undefined {
  return err instanceof OpenAI.APIError ? err.status : undefined;
}

test('files: upload from toFile, a Node stream and a File; retrieve, list, download, delete', async () => {
  server.reset();
  const content = jsonl(simple(2));
  const a = await client.files.create({ file: await toFile(Buffer.from(content), 'a.jsonl'), purpose: 'batch' });
  const path = join(dir, 'b.jsonl');
  writeFileSync(path, content);
  const b = await client.files.create({ file: createReadStream(path), purpose: 'batch' });
  const c = await client.files.create({ file: new File([content], 'c.jsonl'), purpose: 'batch' });
  for (const [f, name] of [
    [a, 'a.jsonl'],
    [b, 'b.jsonl'],
    [c, 'c.jsonl'],
  ] as const) {
    assert.equal(f.object, 'file');
    assert.equal(f.purpose, 'batch');
    assert.equal(f.filename, name);
    assert.equal(f.bytes, Buffer.byteLength(content));
    assert.match(f.id, /^file-/);
    assert.equal(await (await client.files.content(f.id)).text(), content);
  }
  assert.equal(new Set([a.id, b.id, c.id]).size, 3);
  assert.deepEqual(await client.files.retrieve(b.id), b);
  const listed = [];
  for await (const f of client.files.list({ limit: 2 })) listed.push(f.id);
  assert.deepEqual(listed, [c.id, b.id, a.id], 'newest first, across pages');

  assert.deepEqual(await client.files.delete(a.id), { id: a.id, object: 'file', deleted: true });
  await assert.rejects(client.files.retrieve(a.id), (e) => status(e) === 404);
  await assert.rejects(client.files.content(a.id), (e) => status(e) === 404);
  assert.equal(server.stats.batch.filesUploaded, 3);
  assert.equal(server.stats.batch.filesDeleted, 1);
  assert.equal(server.stats.batch.downloads, 3);
});

test('files: a batch file must be .jsonl and within maxFileBytes; purpose is checked', async () => {
  server.reset();
  const txt = client.files.create({ file: await toFile(Buffer.from('{}\n'), 'in.txt'), purpose: 'batch' });
  await assert.rejects(txt, (e) => status(e) === 400 && /Must be \.jsonl/.test(String((e as Error).message)));
  const bad = client.files.create({ file: await toFile(Buffer.from('x'), 'in.jsonl'), purpose: 'nope' as 'batch' });
  await assert.rejects(bad, (e) => status(e) === 400);
  const small = await startOpenAIServer({ batch: { maxFileBytes: 50 } });
  try {
    const c = new OpenAI({ apiKey: 'k', baseURL: small.url, maxRetries: 0 });
    const big = c.files.create({ file: await toFile(Buffer.from('x'.repeat(51)), 'big.jsonl'), purpose: 'batch' });
    await assert.rejects(big, (e) => status(e) === 400 && /too large/.test(String((e as Error).message)));
    const ok = await c.files.create({ file: await toFile(Buffer.from('x'.repeat(50)), 'ok.jsonl'), purpose: 'batch' });
    assert.equal(ok.bytes, 50);
  } finally {
    await small.close();
  }
  assert.equal(server.stats.batch.filesUploaded, 0);
});

test('batch: validating → in_progress (in steps) → finalizing → completed; output lines as OpenAI writes them', async () => {
  server.reset();
  const lines: Line[] = [
    { custom_id: 'float-two', body: { model: MODEL, input: ['alpha', 'beta'], encoding_format: 'float' } },
    { custom_id: 'b64-dims', body: { model: MODEL, input: 'gamma', encoding_format: 'base64', dimensions: 8 } },
    { custom_id: 'default', body: { model: MODEL, input: ['delta'] } },
    { custom_id: 'last', body: { model: MODEL, input: ['epsilon'], dimensions: 4 } },
  ];
  const created = await submit(lines, { job: 'happy' });
  assert.equal(created.object, 'batch');
  assert.equal(created.status, 'validating');
  assert.equal(created.endpoint, '/v1/embeddings');
  assert.equal(created.completion_window, '24h');
  assert.deepEqual(created.request_counts, { total: 0, completed: 0, failed: 0 });
  assert.deepEqual(created.metadata, { job: 'happy' });
  assert.equal(created.expires_at, created.created_at + 24 * 3600);
  assert.equal(created.output_file_id, null);
  assert.match(created.id, /^batch_/);
  assert.equal((await client.batches.retrieve(created.id)).status, 'validating', 'nothing moves until told');

  const seen: string[] = [];
  const counts: number[] = [];
  for (let i = 0; i < 4; i++) {
    server.batches.advance(created.id);
    const b = await client.batches.retrieve(created.id);
    seen.push(b.status);
    counts.push(b.request_counts!.completed);
  }
  assert.deepEqual(seen, ['in_progress', 'in_progress', 'finalizing', 'completed']);
  assert.deepEqual(counts, [0, 2, 4, 4], 'progress is visible while in progress');
  const done = await client.batches.retrieve(created.id);
  assert.deepEqual(done.request_counts, { total: 4, completed: 4, failed: 0 });
  assert.equal(done.model, MODEL);
  assert.equal(done.error_file_id, null, 'no error file without failed lines');
  for (const field of ['in_progress_at', 'finalizing_at', 'completed_at'] as const)
    assert.equal(typeof done[field], 'number');
  assert.equal(done.failed_at, null);
  assert.equal(server.batches.advance(created.id)[0]!.status, 'completed', 'a terminal batch stays');

  const out = await download(done.output_file_id);
  assert.deepEqual(
    out.map((l) => l.custom_id),
    lines.map((l) => l.custom_id),
  );
  for (const l of out) {
    assert.match(l.id, /^batch_req_/);
    assert.equal(l.error, null);
    assert.equal(l.response.status_code, 200);
    assert.equal(typeof l.response.request_id, 'string');
    assert.equal(l.response.body.object, 'list');
    assert.equal(l.response.body.model, MODEL);
  }
  const [two, b64, def, last] = out;
  assert.deepEqual(
    two.response.body.data.map((d: any) => d.index),
    [0, 1],
  );
  assert.deepEqual(two.response.body.data[1].embedding, Array.from(fakeEmbedding(MODEL, 'beta', DIMS)));
  assert.deepEqual(fromBase64(b64.response.body.data[0].embedding), fakeEmbedding(MODEL, 'gamma', 8));
  assert.equal(def.response.body.data[0].embedding.length, DIMS);
  assert.equal(last.response.body.data[0].embedding.length, 4);
  const tokens = Math.ceil(5 / 4) + Math.ceil(4 / 4);
  assert.deepEqual(two.response.body.usage, { prompt_tokens: tokens, total_tokens: tokens });

  // The same vectors as the online endpoint gives.
  const online = await client.embeddings.create({ model: MODEL, input: ['alpha', 'beta'], encoding_format: 'float' });
  assert.deepEqual(
    online.data.map((d) => d.embedding),
    two.response.body.data.map((d: any) => d.embedding),
  );

  const s = server.stats.batch;
  assert.equal(s.batchesCreated, 1);
  assert.equal(s.filesUploaded, 1);
  assert.deepEqual([...s.submittedCustomIds.keys()], ['float-two', 'b64-dims', 'default', 'last']);
  assert.ok([...s.billedCustomIds.values()].every((n) => n === 1));
  assert.deepEqual([...s.billedTexts.keys()].sort(), ['alpha', 'beta', 'delta', 'epsilon', 'gamma']);
  assert.equal(
    s.tokens,
    out.reduce((a, l) => a + l.response.body.usage.prompt_tokens, 0),
  );
  assert.equal(done.usage?.input_tokens, s.tokens);
  // The text sent online and through the batch is billed twice, and the server says so.
  assert.deepEqual(server.textsBilledTwice().sort(), ['alpha', 'beta']);
  const cost = server.cost();
  assert.equal(cost.batch.tokens, s.tokens);
  const price = server.price(MODEL);
  assert.equal(price.batchInput, price.input / 2);
  assert.ok(Math.abs(cost.batch.usd - (s.tokens * price.batchInput) / 1e6) < 1e-15);
});

test('batch: every validation problem at once fails the batch with errors; nothing is billed', async () => {
  server.reset();
  const content = [
    JSON.stringify({ custom_id: 'ok', method: 'POST', url: '/v1/embeddings', body: { model: MODEL, input: ['a'] } }),
    '{"custom_id": "broken", ',
    JSON.stringify({ method: 'POST', url: '/v1/embeddings', body: { model: MODEL, input: ['b'] } }),
    JSON.stringify({ custom_id: 'ok', method: 'POST', url: '/v1/embeddings', body: { model: MODEL, input: ['c'] } }),
    JSON.stringify({
      custom_id: 'wrong-url',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: MODEL, input: ['d'] },
    }),
    JSON.stringify({ custom_id: 'get', method: 'GET', url: '/v1/embeddings', body: { model: MODEL, input: ['e'] } }),
    JSON.stringify({
      custom_id: 'other-model',
      method: 'POST',
      url: '/v1/embeddings',
      body: { model: 'text-embedding-3-small', input: ['f'] },
    }),
  ].join('\n');
  const b = await submit(content);
  const [after] = server.batches.advance(b.id);
  assert.equal(after!.status, 'failed');
  const failed = await client.batches.retrieve(b.id);
  assert.equal(failed.status, 'failed');
  assert.equal(typeof failed.failed_at, 'number');
  assert.equal(failed.output_file_id, null);
  assert.deepEqual(
    failed.errors!.data!.map((e) => [e.code, e.line]),
    [
      ['invalid_json_line', 2],
      ['missing_required_parameter', 3],
      ['duplicate_custom_id', 4],
      ['url_mismatch', 5],
      ['invalid_method', 6],
      ['model_mismatch', 7],
    ],
  );
  assert.equal(failed.errors!.data![1]!.param, 'custom_id');
  server.batches.advanceAll(b.id);
  assert.equal((await client.batches.retrieve(b.id)).status, 'failed', 'failed is final');
  assert.equal(server.stats.batch.billedCustomIds.size, 0);
  assert.equal(server.stats.batch.tokens, 0);
  assert.equal(server.stats.batch.submittedCustomIds.get('ok'), 2, 'what was submitted is counted, even in a bad file');

  const empty = await submit('\n\n');
  assert.deepEqual(
    server.batches.advance(empty.id)[0]!.errors!.data.map((e) => e.code),
    ['empty_file'],
  );
  const tooMany = await submit(simple(9));
  assert.deepEqual(
    server.batches.advance(tooMany.id)[0]!.errors!.data.map((e) => e.code),
    ['too_many_tasks'],
  );
  const tooManyInputs = await submit([
    { custom_id: 'x', body: { model: MODEL, input: Array.from({ length: 7 }, (_, i) => `x${i}`) } },
    { custom_id: 'y', body: { model: MODEL, input: Array.from({ length: 6 }, (_, i) => `y${i}`) } },
  ]);
  const inputsError = server.batches.advance(tooManyInputs.id)[0]!.errors!.data;
  assert.equal(inputsError[0]!.code, 'too_many_tasks');
  assert.match(inputsError[0]!.message, /13 embedding inputs/);
});

test('batch: a request the endpoint refuses fails alone, in the error file', async () => {
  server.reset();
  const b = await submit([
    { custom_id: 'good', body: { model: MODEL, input: ['fine'] } },
    { custom_id: 'too-wide', body: { model: MODEL, input: ['wide'], dimensions: 9999 } },
    { custom_id: 'no-input', body: { model: MODEL, input: [] } },
  ]);
  const [done] = server.batches.advanceAll(b.id);
  assert.equal(done!.status, 'completed');
  assert.deepEqual(done!.request_counts, { total: 3, completed: 1, failed: 2 });
  const errs = await download(done!.error_file_id);
  assert.deepEqual(
    errs.map((l) => [l.custom_id, l.response.status_code, l.error]),
    [
      ['too-wide', 400, null],
      ['no-input', 400, null],
    ],
  );
  assert.match(errs[0].response.body.error.message, /dimensions/);
  assert.equal(errs[0].response.body.error.type, 'invalid_request_error');
  assert.deepEqual(
    (await download(done!.output_file_id)).map((l) => l.custom_id),
    ['good'],
  );
  assert.deepEqual([...server.stats.batch.billedCustomIds.keys()], ['good']);
});

test('batches.create refuses an unknown file, a file of another purpose, another endpoint or window', async () => {
  server.reset();
  const create = (body: Record<string, unknown>) =>
    client.batches.create({
      input_file_id: 'file-nope',
      endpoint: '/v1/embeddings',
      completion_window: '24h',
      ...body,
    } as any);
  await assert.rejects(create({}), (e) => status(e) === 400 && /file-nope/.test(String((e as Error).message)));
  const file = await client.files.create({
    file: await toFile(Buffer.from(jsonl(simple(1))), 'x.jsonl'),
    purpose: 'batch',
  });
  const other = await client.files.create({ file: await toFile(Buffer.from('x'), 'x.jsonl'), purpose: 'user_data' });
  await assert.rejects(create({ input_file_id: other.id }), (e) => status(e) === 400);
  await assert.rejects(create({ input_file_id: file.id, endpoint: '/v1/chat/completions' }), (e) => status(e) === 400);
  await assert.rejects(create({ input_file_id: file.id, completion_window: '1h' }), (e) => status(e) === 400);
  await assert.rejects(create({ input_file_id: file.id, metadata: { k: 5 } }), (e) => status(e) === 400);
  assert.equal(server.stats.batch.batchesCreated, 0);
  assert.equal(server.stats.batch.submittedCustomIds.size, 0);
});

test('cancel: in progress → cancelling → cancelled with partial output; terminal batches refuse', async () => {
  server.reset();
  const b = await submit(simple(4));
  server.batches.advance(b.id); // in_progress
  server.batches.advance(b.id); // 2 of 4 ran
  const cancelling = await client.batches.cancel(b.id);
  assert.equal(cancelling.status, 'cancelling');
  assert.equal(typeof cancelling.cancelling_at, 'number');
  assert.equal((await client.batches.cancel(b.id)).status, 'cancelling', 'cancelling twice is harmless');
  assert.equal(server.stats.batch.cancels, 1);
  server.batches.advance(b.id);
  const cancelled = await client.batches.retrieve(b.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(typeof cancelled.cancelled_at, 'number');
  assert.deepEqual(cancelled.request_counts, { total: 4, completed: 2, failed: 2 });
  assert.deepEqual(
    (await download(cancelled.output_file_id)).map((l) => l.custom_id),
    ['c0', 'c1'],
  );
  const errs = await download(cancelled.error_file_id);
  assert.deepEqual(
    errs.map((l) => [l.custom_id, l.response, l.error.code]),
    [
      ['c2', null, 'batch_cancelled'],
      ['c3', null, 'batch_cancelled'],
    ],
  );
  assert.deepEqual([...server.stats.batch.billedCustomIds.keys()], ['c0', 'c1']);
  await assert.rejects(client.batches.cancel(b.id), (e) => status(e) === 400);

  const early = await submit(simple(2));
  await client.batches.cancel(early.id);
  const [gone] = server.batches.advanceAll(early.id);
  assert.equal(gone!.status, 'cancelled');
  assert.equal(gone!.output_file_id, null);
  assert.equal(gone!.error_file_id, null);
  assert.equal(server.stats.batch.cancels, 2);
});

test('expired: the requests run so far keep their output, the rest are batch_expired', async () => {
  server.reset();
  server.batches.setFaults({ kind: 'expire', completed: 1 });
  const b = await submit(simple(4));
  const [expired] = server.batches.advanceAll(b.id);
  assert.equal(expired!.status, 'expired');
  assert.equal(typeof expired!.expired_at, 'number');
  assert.deepEqual(expired!.request_counts, { total: 4, completed: 1, failed: 3 });
  assert.deepEqual(
    (await download(expired!.output_file_id)).map((l) => l.custom_id),
    ['c0'],
  );
  const errs = await download(expired!.error_file_id);
  assert.deepEqual(
    errs.map((l) => l.custom_id),
    ['c1', 'c2', 'c3'],
  );
  assert.ok(errs.every((l) => l.response === null && l.error.code === 'batch_expired'));
  assert.deepEqual([...server.stats.batch.billedTexts.keys()], ['text-0']);
  // The rule is used up: the next batch completes.
  const next = await submit(simple(2));
  assert.equal(server.batches.advanceAll(next.id)[0]!.status, 'completed');
});

test('forced outcomes: failed, error lines; rules match by batch and run out', async () => {
  server.reset();
  server.batches.setFaults(
    { fault: { kind: 'fail' }, match: (info) => info.metadata?.doom === 'yes' },
    { fault: { kind: 'error-lines', customIds: ['c1'], lines: [3], status: 503 }, times: Infinity },
  );
  const doomed = await submit(simple(2), { doom: 'yes' });
  const [failed] = server.batches.advanceAll(doomed.id);
  assert.equal(failed!.status, 'failed');
  assert.equal(failed!.errors!.data[0]!.code, 'batch_failed');

  for (let round = 0; round < 2; round++) {
    const b = await submit(simple(4), { doom: 'yes' });
    const [done] = server.batches.advanceAll(b.id);
    assert.equal(done!.status, 'completed', 'the fail rule was used once');
    assert.deepEqual(done!.request_counts, { total: 4, completed: 2, failed: 2 });
    const errs = await download(done!.error_file_id);
    assert.deepEqual(
      errs.map((l) => [l.custom_id, l.response.status_code, l.response.body.error.type]),
      [
        ['c1', 503, 'server_error'],
        ['c3', 503, 'server_error'],
      ],
    );
  }

  server.batches.setFaults();
  const forced = await submit(simple(2));
  server.batches.force(forced.id, { kind: 'fail', errors: [{ code: 'x', message: 'forced', line: 1, param: null }] });
  assert.deepEqual(server.batches.advanceAll(forced.id)[0]!.errors!.data, [
    { code: 'x', message: 'forced', line: 1, param: null },
  ]);
});

test('broken output: malformed line, unknown custom_id, wrong dimensions, NaN, Infinity, missing, duplicate, short, shuffled', async () => {
  server.reset();
  const lines = simple(8);
  lines[3]!.body.encoding_format = 'base64';
  lines[7]!.body.input = ['p', 'q'];
  const b = await submit(lines);
  server.batches.force(
    b.id,
    { kind: 'malformed-line', customId: 'c0' },
    { kind: 'unknown-custom-id', customId: 'stranger' },
    { kind: 'wrong-dimensions', line: 1, dimensions: 3 },
    { kind: 'nan', customId: 'c2' },
    { kind: 'infinity', customId: 'c3' },
    { kind: 'missing-line', customId: 'c4' },
    { kind: 'duplicate-line', customId: 'c5' },
    { kind: 'short-list', customId: 'c7' },
    { kind: 'shuffle' },
  );
  const [done] = server.batches.advanceAll(b.id);
  const text = await (await client.files.content(done!.output_file_id!)).text();
  const raw = text.split('\n').filter((l) => l !== '');
  const parsed = raw.flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
  assert.equal(raw.length - parsed.length, 1, 'one line is not JSON');
  assert.ok(raw.some((l) => l.includes('"custom_id":"c0"') && !parsed.some((p) => p.custom_id === 'c0')));
  const ids = parsed.map((l) => l.custom_id);
  assert.notDeepEqual(ids, [...ids].sort(), 'shuffled');
  assert.deepEqual([...ids].sort(), ['c1', 'c2', 'c3', 'c5', 'c5', 'c6', 'c7', 'stranger']);
  const byId = (id: string) => parsed.find((l) => l.custom_id === id).response.body.data;
  assert.equal(byId('c1')[0].embedding.length, 3);
  assert.equal(byId('c2')[0].embedding[0], null);
  assert.equal(fromBase64(byId('c3')[0].embedding)[0], Infinity);
  assert.equal(byId('c7').length, 1);
  assert.equal(byId('c6')[0].embedding.length, DIMS);
  // What the provider ran is billed, whatever its line looks like; the stranger is not.
  assert.deepEqual(
    [...server.stats.batch.billedCustomIds.keys()],
    simple(8).map((l) => l.custom_id),
  );
  assert.equal(server.stats.batch.billedCustomIds.get('c5'), 1, 'a duplicated line is billed once');
  assert.equal(server.stats.batch.billedCustomIds.has('stranger'), false);
});

test('a download cut off midway fails the reader; the next download is whole', async () => {
  server.reset();
  server.batches.setFaults({ kind: 'cut-download', afterBytes: 40 });
  const b = await submit(simple(3));
  const [done] = server.batches.advanceAll(b.id);
  await assert.rejects((await client.files.content(done!.output_file_id!)).text());
  const whole = await download(done!.output_file_id);
  assert.equal(whole.length, 3);
  assert.equal(server.stats.batch.downloads, 2);
  assert.equal(server.stats.batch.cutDownloads, 1);

  const input = server.files.list()[0]!;
  server.files.cutDownload({ fileId: input.id, times: 2 });
  for (let i = 0; i < 2; i++) await assert.rejects((await client.files.content(input.id)).text());
  assert.equal(await (await client.files.content(input.id)).text(), server.files.get(input.id)!.content);
});

test('list: newest first, limit and after, across pages', async () => {
  server.reset();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await submit(simple(1))).id);
  const first = await client.batches.list({ limit: 2 });
  assert.deepEqual(
    first.data.map((b) => b.id),
    [ids[4], ids[3]],
  );
  assert.equal(first.has_more, true);
  const second = await client.batches.list({ limit: 2, after: ids[3] });
  assert.deepEqual(
    second.data.map((b) => b.id),
    [ids[2], ids[1]],
  );
  const all: string[] = [];
  for await (const b of client.batches.list({ limit: 2 })) all.push(b.id);
  assert.deepEqual(all, [...ids].reverse());
  assert.deepEqual(
    server.batches.list().map((b) => b.id),
    ids,
  );
});

test('404: a batch the server does not know (or forgot), unknown files; a base URL without Batch support', async () => {
  server.reset();
  await assert.rejects(client.batches.retrieve('batch_nope'), (e) => e instanceof OpenAI.NotFoundError);
  await assert.rejects(client.batches.cancel('batch_nope'), (e) => e instanceof OpenAI.NotFoundError);
  const b = await submit(simple(1));
  server.batches.forget(b.id);
  await assert.rejects(client.batches.retrieve(b.id), (e) => e instanceof OpenAI.NotFoundError);
  assert.throws(() => server.batches.advance(b.id), /knows no batch/);

  const plain = await startOpenAIServer({ batch: false });
  try {
    const c = new OpenAI({ apiKey: 'k', baseURL: plain.url, maxRetries: 0 });
    const upload = c.files.create({ file: await toFile(Buffer.from(jsonl(simple(1))), 'x.jsonl'), purpose: 'batch' });
    await assert.rejects(upload, (e) => e instanceof OpenAI.NotFoundError);
    await assert.rejects(c.batches.list(), (e) => e instanceof OpenAI.NotFoundError);
    await assert.rejects(c.batches.retrieve('batch_x'), (e) => e instanceof OpenAI.NotFoundError);
    assert.equal((await c.embeddings.create({ model: 'm', input: 'x' })).data.length, 1, 'embeddings still work');
  } finally {
    await plain.close();
  }
});

test('the Files and Batch APIs need the key', async () => {
  server.reset();
  const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: server.url, maxRetries: 0 });
  await assert.rejects(wrong.batches.list(), (e) => e instanceof OpenAI.AuthenticationError);
  const upload = wrong.files.create({ file: await toFile(Buffer.from('x'), 'x.jsonl'), purpose: 'batch' });
  await assert.rejects(upload, (e) => e instanceof OpenAI.AuthenticationError);
  assert.equal(server.stats.unauthorized, 2);
  assert.equal(server.stats.batch.filesUploaded, 0);
});

test('enqueued token limit: a batch over it fails until the model’s running batches finish', async () => {
  const s = await startOpenAIServer({ batch: { maxEnqueuedTokens: 10, inProgressSteps: 2 } });
  try {
    const c = new OpenAI({ apiKey: 'k', baseURL: s.url, maxRetries: 0 });
    const make = async (texts: string[]) => {
      const content = jsonl([{ custom_id: 'a', body: { model: 'm', input: texts } }]);
      const f = await c.files.create({ file: await toFile(Buffer.from(content), 'x.jsonl'), purpose: 'batch' });
      return c.batches.create({ input_file_id: f.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    };
    const big = await make(['x'.repeat(32)]); // 8 tokens
    assert.equal(s.batches.advance(big.id)[0]!.status, 'in_progress');
    const over = await make(['y'.repeat(12)]); // 3 more: 11 > 10
    const [failed] = s.batches.advance(over.id);
    assert.equal(failed!.status, 'failed');
    assert.equal(failed!.errors!.data[0]!.code, 'token_limit_exceeded');
    const fits = await make(['z'.repeat(8)]); // 2 more: 10 fits
    assert.equal(s.batches.advance(fits.id)[0]!.status, 'in_progress');
    s.batches.advanceAll();
    const later = await make(['y'.repeat(12)]);
    assert.equal(s.batches.advanceAll(later.id)[0]!.status, 'completed');
  } finally {
    await s.close();
  }
});

test('autoAdvanceMs moves batches without the test telling it', async () => {
  const s = await startOpenAIServer({ batch: { autoAdvanceMs: 5 } });
  try {
    const c = new OpenAI({ apiKey: 'k', baseURL: s.url, maxRetries: 0 });
    const content = jsonl([{ custom_id: 'a', body: { model: 'm', input: ['auto'], dimensions: 4 } }]);
    const f = await c.files.create({ file: await toFile(Buffer.from(content), 'x.jsonl'), purpose: 'batch' });
    const b = await c.batches.create({ input_file_id: f.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    let current = b;
    const deadline = Date.now() + 10 * 60_000; // a bound, not a timing: it takes a few ticks
    while (current.status !== 'completed') {
      assert.ok(Date.now() < deadline, `still ${current.status}`);
      await new Promise((r) => setTimeout(r, 5));
      current = await c.batches.retrieve(b.id);
    }
    assert.deepEqual(current.request_counts, { total: 1, completed: 1, failed: 0 });
  } finally {
    await s.close();
  }
});
