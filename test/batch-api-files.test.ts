// planFiles (src/backfill/batch-api/files.ts) without a database: how the
// texts still to embed are split into Batch API input files by inputs per
// request, tokens per request, requests and inputs per file, file bytes and
// the enqueued-token budget; and that a file's recorded byte count is the
// size of the JSONL that jsonlOf writes from its items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  jsonlOf,
  planFiles,
  requestLine,
  type PendingText,
  type PlannedFile,
} from '../src/backfill/batch-api/files.js';
import type { BatchApiLimits } from '../src/backfill/batch-api/types.js';

const body = (input: string[]) => ({ model: 'text-embedding-3-small', input, encoding_format: 'float' });

function texts(n: number, tokens = 10, len = 20): PendingText[] {
  return Array.from({ length: n }, (_, i) => {
    const content = `text ${String(i).padStart(4, '0')} ${'x'.repeat(len)}`;
    return { sha: createHash('sha256').update(content).digest(), content, tokens };
  });
}

const wide: BatchApiLimits & { maxRequestTokens: number } = {
  requestsPerFile: 50_000,
  inputsPerRequest: 100,
  inputsPerFile: 50_000,
  fileBytes: 190 * 1024 * 1024,
  enqueuedTokens: 3_000_000,
  maxRequestTokens: 300_000,
};

const plan = (t: PendingText[], limits: Partial<typeof wide>, budget = Infinity) =>
  planFiles(t, { ...wide, ...limits }, budget, body);

/** The files' texts in order, and their shapes (texts per request, per file). */
const flat = (files: PlannedFile[]) => files.flatMap((f) => f.requests.flatMap((r) => r.texts.map((x) => x.content)));
const shape = (files: PlannedFile[]) => files.map((f) => f.requests.map((r) => r.texts.length));

/** Bytes of a file's JSONL as jsonlOf writes it from recorded items. */
function jsonlBytes(f: PlannedFile): number {
  const items = new Map(f.requests.map((r) => [r.customId, r.texts.map((t, position) => ({ position, sha: t.sha }))]));
  const contents = new Map(f.requests.flatMap((r) => r.texts.map((t) => [t.sha.toString('hex'), t.content] as const)));
  return jsonlOf(items, contents, body).length;
}

test('inputs per request and requests per file; custom ids restart per file; order kept, each text once', () => {
  const t = texts(23);
  const files = plan(t, { inputsPerRequest: 5, requestsPerFile: 2 });
  assert.deepEqual(shape(files), [[5, 5], [5, 5], [3]]);
  assert.deepEqual(
    files.map((f) => f.requests.map((r) => r.customId)),
    [['r0', 'r1'], ['r0', 'r1'], ['r0']],
  );
  assert.deepEqual(
    flat(files),
    t.map((x) => x.content),
  );
  assert.deepEqual(
    files.map((f) => [f.texts, f.tokens]),
    [
      [10, 100],
      [10, 100],
      [3, 30],
    ],
  );
});

test('inputs per file: a request that would pass the limit opens a new file', () => {
  const files = plan(texts(20), { inputsPerRequest: 4, inputsPerFile: 10 });
  assert.deepEqual(shape(files), [[4, 4], [4, 4], [4]]);
  for (const f of files) assert.ok(f.texts <= 10);
  // A limit that is a multiple of the request size fills each file.
  assert.deepEqual(shape(plan(texts(20), { inputsPerRequest: 4, inputsPerFile: 8 })), [[4, 4], [4, 4], [4]]);
  assert.deepEqual(shape(plan(texts(20), { inputsPerRequest: 4, inputsPerFile: 12 })), [
    [4, 4, 4],
    [4, 4],
  ]);
});

test('file bytes: each file stays within the limit, and its byte count is the size of its JSONL', () => {
  const t = texts(40, 10, 200);
  const oneRequest = Buffer.byteLength(requestLine('r0', body(t.slice(0, 5).map((x) => x.content))));
  // Room for two requests of 5 texts, not three.
  const fileBytes = 2 * oneRequest + Math.floor(oneRequest / 2);
  const files = plan(t, { inputsPerRequest: 5, fileBytes });
  assert.deepEqual(shape(files), [
    [5, 5],
    [5, 5],
    [5, 5],
    [5, 5],
  ]);
  for (const f of files) {
    assert.ok(f.bytes <= fileBytes, `${f.bytes} ≤ ${fileBytes}`);
    assert.equal(f.bytes, jsonlBytes(f), 'the planned size is the uploaded size');
  }
  // Custom ids past r9 are longer: the sizes still add up.
  const big = plan(texts(60, 10, 10), { inputsPerRequest: 1 });
  assert.equal(big.length, 1);
  assert.equal(big[0]!.bytes, jsonlBytes(big[0]!));
});

test('tokens per request: a request closes before it would pass the encoder’s limit', () => {
  const t = texts(10, 30);
  const files = plan(t, { inputsPerRequest: 100, maxRequestTokens: 100 });
  assert.deepEqual(shape(files), [[3, 3, 3, 1]]);
  for (const r of files[0]!.requests) assert.ok(r.texts.reduce((a, x) => a + x.tokens, 0) <= 100);
});

test('enqueued-token budget: whole requests up to the budget, the rest left for later', () => {
  const t = texts(30, 10); // 50 tokens per request of 5
  const files = plan(t, { inputsPerRequest: 5, requestsPerFile: 2 }, 120);
  assert.deepEqual(shape(files), [[5, 5]]);
  assert.equal(
    files.reduce((a, f) => a + f.tokens, 0),
    100,
  );
  assert.deepEqual(
    flat(files),
    t.slice(0, 10).map((x) => x.content),
    'the first texts, in order',
  );
  // The budget spans files.
  assert.deepEqual(shape(plan(t, { inputsPerRequest: 5, requestsPerFile: 2 }, 150)), [[5, 5], [5]]);
  // Exactly one request's worth is enough for it; less than one request plans nothing.
  assert.deepEqual(shape(plan(t, { inputsPerRequest: 5 }, 50)), [[5]]);
  assert.deepEqual(plan(t, { inputsPerRequest: 5 }, 49), []);
  // Nothing to plan.
  assert.deepEqual(plan([], {}), []);
});

test('a request that no file could hold is refused with the way out, not planned past the limit', () => {
  const t = texts(10, 10, 300);
  assert.throws(
    () => plan(t, { inputsPerRequest: 5, fileBytes: 500 }),
    (e: Error) => {
      assert.equal(e.name, 'InputError');
      assert.match(
        e.message,
        /one request of 5 texts is \d+ bytes, more than a whole batch file may hold \(500 bytes\): lower --batch-inputs-per-request or raise --batch-file-mb/,
      );
      return true;
    },
  );
  // One text per request fits: one request per file.
  const one = Buffer.byteLength(requestLine('r0', body([t[0]!.content])));
  const files = plan(t, { inputsPerRequest: 1, fileBytes: one });
  assert.equal(files.length, 10);
  for (const f of files) assert.ok(f.bytes <= one);
});
