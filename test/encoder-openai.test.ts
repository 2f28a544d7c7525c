import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { EncoderError, EncoderOutputError, InputError } from '../src/errors.js';
import { createLogger } from '../src/log/logger.js';
import { createOpenAIEncoder, type OpenAIEncoderOptions } from '../src/encoders/openai/index.js';
import { planRequests } from '../src/encoders/openai/batches.js';
import type { EncoderEvent } from '../src/encoders/types.js';
import { fakeEmbedding, startOpenAIServer, type OpenAIServer } from './support/openai-server.js';

const KEY = 'sk-test-SECRET-abc123xyz';
const MODEL = 'text-embedding-3-small';
const FAST = { baseMs: 5, maxMs: 50 };

let server: OpenAIServer;
before(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
});
after(() => server.close());

/** Everything any test logged, to check that the key never shows up. */
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  }),
});
/** Every error any test caught, for the same check. */
const caught: unknown[] = [];

function encoder(extra: Partial<OpenAIEncoderOptions> = {}, s: OpenAIServer = server) {
  return createOpenAIEncoder({
    model: MODEL,
    dimensions: 8,
    baseURL: s.url,
    apiKey: KEY,
    backoff: FAST,
    timeoutMs: 30_000,
    logger,
    ...extra,
  });
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    caught.push(err);
    return err as Error;
  }
  throw new assert.AssertionError({ message: 'expected a rejection' });
}

function collect() {
  const events: EncoderEvent[] = [];
  return { events, onEvent: (e: EncoderEvent) => events.push(e) };
}

const expectVectors = (texts: string[], got: Float32Array[], dims = 8, model = MODEL) => {
  assert.equal(got.length, texts.length);
  texts.forEach((t, i) => assert.deepEqual(got[i], fakeEmbedding(model, t, dims), `vector ${i}`));
};

test('identity, limits, tokenizer', () => {
  const e = encoder();
  assert.equal(e.spec, 'openai:text-embedding-3-small');
  assert.deepEqual(e.identity, {
    name: 'openai:text-embedding-3-small',
    revision: MODEL,
    settings: { dimensions: 8, baseURLHost: `127.0.0.1:${server.port}` },
  });
  assert.equal(e.dimensions, 8);
  assert.equal(e.normalized, true);
  assert.equal(e.maxBatchItems, 2048);
  assert.equal(e.maxBatchTokens, 300_000);
  assert.equal(e.tokenizer, 'cl100k_base');
  assert.equal(e.countTokens('hello world'), 2);
  assert.equal(e.countTokens('<|endoftext|>'), 7); // special-token text is plain text, no throw
  assert.equal(createOpenAIEncoder({ model: 'text-embedding-3-large', apiKey: KEY }).dimensions, 3072);
  const other = createOpenAIEncoder({ model: 'nomic-embed-text', baseURL: server.url });
  assert.equal(other.normalized, false);
  assert.equal(other.dimensions, undefined);
  assert.equal(other.tokenizer, 'approx-bytes/4');
  assert.equal(other.countTokens('abcdefghi'), 3);
  assert.equal(
    createOpenAIEncoder({ model: 'nomic-embed-text', baseURL: server.url, normalized: true }).normalized,
    true,
  );
});

test('planRequests: greedy, in order, bounded by items and tokens', () => {
  assert.deepEqual(planRequests([5, 5, 5], { maxItems: 10, maxTokens: 10 }), [
    { start: 0, end: 2, tokens: 10 },
    { start: 2, end: 3, tokens: 5 },
  ]);
  assert.deepEqual(
    planRequests([1, 1, 1, 1, 1], { maxItems: 2, maxTokens: 100 }).map((b) => b.end - b.start),
    [2, 2, 1],
  );
  assert.deepEqual(planRequests([3, 20, 3], { maxItems: 10, maxTokens: 10 }), [
    { start: 0, end: 1, tokens: 3 },
    { start: 1, end: 2, tokens: 20 },
    { start: 2, end: 3, tokens: 3 },
  ]);
  assert.deepEqual(planRequests([], { maxItems: 2, maxTokens: 2 }), []);
});

test('10,000 texts are split into valid batches and come back in order', async () => {
  server.reset();
  const texts = Array.from({ length: 10_000 }, (_, i) =>
    i % 97 === 0 ? `long text ${i} ` + 'lorem ipsum dolor sit amet '.repeat(300) : `text number ${i}`,
  );
  const budget = 40_000;
  const e = encoder({ maxBatchTokens: budget });
  const { events, onEvent } = collect();
  const vectors = await e.embed(texts, { onEvent, label: 'batch 1' });
  expectVectors(texts, vectors);
  assert.ok(server.stats.log.length >= 6, `${server.stats.log.length} requests`);
  const sent: string[] = [];
  for (const r of server.stats.log) {
    assert.equal(r.status, 200);
    assert.ok(r.items <= 2048, `${r.items} items`);
    const tokens = r.texts.reduce((a, t) => a + e.countTokens(t), 0);
    assert.ok(tokens <= budget, `${tokens} tokens`);
    assert.equal(r.dimensions, 8);
    assert.equal(r.encodingFormat, 'base64');
    sent.push(...r.texts);
  }
  assert.deepEqual(sent, texts); // each text sent once, in order
  assert.equal(events.filter((x) => x.type === 'request').length, server.stats.log.length);
  assert.equal(events.filter((x) => x.type === 'response').length, server.stats.log.length);

  // The default limits: 2048 items per request.
  server.reset();
  await encoder().embed(texts.slice(0, 5000).map((t) => t.slice(0, 40)));
  assert.deepEqual(
    server.stats.log.map((r) => r.items),
    [2048, 2048, 904],
  );
});

test('a 429 storm is honoured: waits at least what the server asked, then succeeds', async () => {
  // Retry-After in whole seconds (no retry-after-ms).
  server.reset();
  server.setFaults({ kind: 'status', status: 429, retryAfterSeconds: 1 });
  const { events, onEvent } = collect();
  const t0 = Date.now();
  const v = await encoder().embed(['a', 'b'], { onEvent });
  expectVectors(['a', 'b'], v);
  const [first, second] = server.stats.log;
  assert.equal(first!.status, 429);
  assert.ok(second!.at - first!.at >= 1000, `${second!.at - first!.at} ms`);
  assert.ok(Date.now() - t0 >= 1000);
  assert.deepEqual(
    events.find((x) => x.type === 'rate_limited'),
    { type: 'rate_limited', retryAfterMs: 1000, attempt: 1 },
  );
  const retry = events.find((x) => x.type === 'retry');
  assert.ok(retry && retry.type === 'retry' && retry.delayMs >= 1000 && /^429 /.test(retry.reason));

  // A real limiter: 3 requests per 400 ms sliding window, many requests.
  const limited = await startOpenAIServer({ apiKey: KEY, rpm: 3, windowMs: 400 });
  try {
    const texts = Array.from({ length: 10 }, (_, i) => `storm ${i}`);
    const c = collect();
    const out = await encoder({ maxBatchItems: 1, maxAttempts: 10 }, limited).embed(texts, { onEvent: c.onEvent });
    expectVectors(texts, out);
    const log = limited.stats.log;
    assert.ok(limited.stats.rateLimited > 0);
    for (let i = 0; i < log.length - 1; i++) {
      if (log[i]!.status !== 429) continue;
      const waited = log[i + 1]!.at - log[i]!.at;
      assert.ok(waited >= log[i]!.retryAfterMs!, `waited ${waited} ms, asked ${log[i]!.retryAfterMs} ms`);
    }
    assert.equal(c.events.filter((x) => x.type === 'rate_limited').length, limited.stats.rateLimited);
    assert.equal(limited.stats.ok, 10);
  } finally {
    await limited.close();
  }
});

test('5xx is retried with backoff, then succeeds; exhausted retries fail clearly', async () => {
  server.reset();
  server.setFaults({ kind: 'status', status: 500 }, { kind: 'status', status: 502 }, { kind: 'status', status: 503 });
  const { events, onEvent } = collect();
  const v = await encoder().embed(['x', 'y'], { onEvent });
  expectVectors(['x', 'y'], v);
  assert.deepEqual(
    server.stats.log.map((r) => r.status),
    [500, 502, 503, 200],
  );
  const retries = events.filter((x) => x.type === 'retry');
  assert.deepEqual(
    retries.map((r) => r.type === 'retry' && r.attempt),
    [1, 2, 3],
  );
  assert.ok(retries.every((r) => r.type === 'retry' && r.delayMs <= 50));

  server.reset();
  server.setFaults({ fault: { kind: 'status', status: 503, message: 'overloaded' }, times: Infinity });
  const err = await rejects(encoder({ maxAttempts: 3 }).embed(['x'], { label: 'batch 5' }));
  assert.ok(err instanceof EncoderError);
  assert.equal(err.message, 'openai:text-embedding-3-small failed after 3 attempts (batch 5): 503 overloaded');
  assert.equal(server.stats.requests, 3);
});

test('a hung request times out and is retried, or fails clearly', async () => {
  server.reset();
  server.setFaults({ kind: 'hang' });
  const { events, onEvent } = collect();
  const t0 = Date.now();
  // The timeout is long enough that the answered retry never hits it on a loaded machine.
  const v = await encoder({ timeoutMs: 1500 }).embed(['h'], { onEvent });
  expectVectors(['h'], v);
  assert.ok(Date.now() - t0 >= 1500);
  const retry = events.find((x) => x.type === 'retry');
  assert.ok(retry && retry.type === 'retry' && retry.reason === 'timed out after 1500 ms');

  server.reset();
  server.setFaults({ fault: { kind: 'hang' }, times: Infinity });
  const err = await rejects(encoder({ timeoutMs: 300, maxAttempts: 2 }).embed(['h'], { label: 'batch 9' }));
  assert.ok(err instanceof EncoderError);
  assert.equal(err.message, 'openai:text-embedding-3-small failed after 2 attempts (batch 9): timed out after 300 ms');
});

test('wrong dimensions, NaN, Infinity, short lists and duplicate indexes are rejected, naming the batch', async () => {
  const cases: Array<[Parameters<OpenAIServer['setFaults']>[0], RegExp, Partial<OpenAIEncoderOptions>?]> = [
    [
      { kind: 'wrong-dimensions', dimensions: 6 },
      /^openai:text-embedding-3-small returned 6 dimensions, expected 8 \(batch 17\)$/,
    ],
    [{ kind: 'nan', item: 2 }, /returned a non-finite value \(NaN\) at dimension 0 of text 2 \(batch 17\)$/],
    [
      { kind: 'nan', item: 1 },
      /returned a non-finite value \(NaN\) at dimension 0 of text 1 \(batch 17\)$/,
      { encodingFormat: 'float' },
    ],
    [{ kind: 'infinity' }, /returned a non-finite value \(Infinity\) at dimension 0 of text 0 \(batch 17\)$/],
    [{ kind: 'infinity' }, /returned a non-finite value \(Infinity\) .*\(batch 17\)$/, { encodingFormat: 'float' }],
    [{ kind: 'short-list' }, /^openai:text-embedding-3-small returned 2 embeddings for 3 inputs \(batch 17\)$/],
    [{ kind: 'duplicate-index' }, /returned index 0 twice \(batch 17\)$/],
  ];
  for (const [fault, pattern, extra] of cases) {
    server.reset();
    server.setFaults(fault);
    const err = await rejects(encoder(extra).embed(['p', 'q', 'r'], { label: 'batch 17' }));
    assert.ok(err instanceof EncoderOutputError, String(err));
    assert.match(err.message, pattern);
    assert.equal(server.stats.requests, 1, 'a bad answer is not paid for twice');
  }

  // Undeclared dimensions: the first answer fixes them for later calls.
  const other = await startOpenAIServer({ defaultDimensions: 12 });
  try {
    const e = createOpenAIEncoder({ model: 'my-model', baseURL: other.url, logger, backoff: FAST });
    assert.equal((await e.embed(['a']))[0]!.length, 12);
    assert.equal(e.dimensions, 12);
    other.setFaults({ kind: 'wrong-dimensions', dimensions: 10 });
    const err = await rejects(e.embed(['b'], { label: 'batch 2' }));
    assert.equal(err.message, 'openai:my-model returned 10 dimensions, expected 12 (batch 2)');
  } finally {
    await other.close();
  }
});

test('a shuffled index order is put back in input order', async () => {
  server.reset();
  const texts = Array.from({ length: 50 }, (_, i) => `shuffled ${i}`);
  server.setFaults({ kind: 'shuffle' });
  expectVectors(texts, await encoder().embed(texts));
  server.setFaults({ kind: 'shuffle' });
  expectVectors(texts, await encoder({ encodingFormat: 'float' }).embed(texts));
  server.setFaults({ kind: 'malformed-json' }); // a garbled 200 is retried like a dropped connection
  expectVectors(texts, await encoder().embed(texts));
});

test('401, 400 and 404 fail at once with one line', async () => {
  const strict = await startOpenAIServer({ apiKey: 'sk-other-key-000', echoKeyOn401: true });
  try {
    const err = await rejects(encoder({}, strict).embed(['x'], { label: 'batch 3' }));
    assert.ok(err instanceof InputError);
    assert.equal(strict.stats.requests, 1);
    assert.match(
      err.message,
      /^openai:text-embedding-3-small: authentication failed at 127\.0\.0\.1:\d+ \(batch 3\): 401 .*check the API key \(OPENAI_API_KEY\)$/,
    );
    assert.ok(!err.message.includes('\n'));
  } finally {
    await strict.close();
  }

  server.reset();
  const bad = await rejects(encoder({ model: 'tiny', dimensions: 4000, sendDimensions: true }).embed(['x']));
  assert.ok(bad instanceof InputError);
  assert.match(bad.message, /request refused: 400 Invalid 'dimensions'/);
  const missing = await rejects(encoder({ baseURL: server.url.replace(/\/v1$/, '/nope') }).embed(['x']));
  assert.ok(missing instanceof InputError);
  assert.match(missing.message, /not found at .*check the model name and base URL$/);
  assert.equal(server.stats.requests, 1); // the 400; the 404 never reached the embeddings route
});

test('bad inputs and options are InputErrors that say what to do', async () => {
  const e = encoder();
  const err = await rejects(e.embed(['ok', '', 'fine'], { label: 'batch 4' }));
  assert.ok(err instanceof InputError);
  assert.equal(err.message, 'openai:text-embedding-3-small: text 1: empty (batch 4)');
  assert.deepEqual(await e.embed([]), []);

  const noKey = (() => {
    try {
      createOpenAIEncoder({ model: MODEL, env: {} });
    } catch (x) {
      return x;
    }
  })();
  assert.ok(noKey instanceof InputError);
  assert.match(noKey.message, /set OPENAI_API_KEY/);

  const many = (() => {
    try {
      createOpenAIEncoder({ model: 'text-embedding-ada-002', dimensions: 512, timeoutMs: -1, apiKey: KEY });
    } catch (x) {
      return x as InputError;
    }
  })();
  assert.ok(many instanceof InputError);
  assert.equal(many.details.length, 2);
  assert.throws(() => createOpenAIEncoder({ model: MODEL, apiKey: KEY, dimensions: 2000 }), /at most 1536/);
  assert.throws(() => createOpenAIEncoder({ model: MODEL, apiKey: KEY, baseURL: 'ftp://x' }), InputError);
});

test('long texts: truncated to the model limit, or rejected', async () => {
  server.reset();
  const long = 'word '.repeat(9000); // ~9000 tokens
  const full = encoder({ longTextPolicy: 'reject' }).countTokens(long);
  assert.ok(full > 8191);
  const e = encoder();
  assert.equal(e.countTokens(long), 8191); // what it will cost
  const [v] = await e.embed([long]);
  const sentText = server.stats.log[0]!.texts[0]!;
  assert.ok(long.startsWith(sentText));
  assert.equal(encoder({ longTextPolicy: 'reject' }).countTokens(sentText), 8191);
  assert.deepEqual(v, fakeEmbedding(MODEL, sentText, 8));

  const err = await rejects(encoder({ longTextPolicy: 'reject' }).embed(['short', long], { label: 'batch 8' }));
  assert.ok(err instanceof InputError);
  assert.equal(
    err.message,
    `openai:text-embedding-3-small: text 1: ${full} tokens, above the 8191-token limit of text-embedding-3-small (batch 8)`,
  );
});

test('dimensions are sent only to text-embedding-3 models, or when asked', async () => {
  const other = await startOpenAIServer({ modelDimensions: { 'local-model': 8 } });
  try {
    await createOpenAIEncoder({ model: 'text-embedding-ada-002', baseURL: other.url, dimensions: 1536 }).embed(['a']);
    await createOpenAIEncoder({ model: 'local-model', baseURL: other.url, dimensions: 8 }).embed(['a']);
    await createOpenAIEncoder({ model: 'local-model', baseURL: other.url, dimensions: 4, sendDimensions: true }).embed([
      'a',
    ]);
    await createOpenAIEncoder({ model: MODEL, baseURL: other.url, dimensions: 16 }).embed(['a']);
    assert.deepEqual(
      other.stats.log.map((r) => r.dimensions),
      [1536, 8, 4, 16],
    );
  } finally {
    await other.close();
  }
});

test('OPENAI_BASE_URL and OPENAI_API_KEY from the environment', async () => {
  const saved = { base: process.env.OPENAI_BASE_URL, key: process.env.OPENAI_API_KEY };
  process.env.OPENAI_BASE_URL = server.url;
  process.env.OPENAI_API_KEY = KEY;
  try {
    server.reset();
    const e = createOpenAIEncoder({ model: MODEL, dimensions: 8, logger });
    assert.equal(e.identity.settings.baseURLHost, `127.0.0.1:${server.port}`);
    expectVectors(['env'], await e.embed(['env']));
    assert.equal(server.stats.ok, 1); // the key was sent (the server checks it)
  } finally {
    restore('OPENAI_BASE_URL', saved.base);
    restore('OPENAI_API_KEY', saved.key);
  }
  // An injected env works too; a custom server needs no key.
  const open = await startOpenAIServer();
  try {
    const e = createOpenAIEncoder({ model: MODEL, dimensions: 8, env: { OPENAI_BASE_URL: open.url } });
    expectVectors(['no key'], await e.embed(['no key']));
  } finally {
    await open.close();
  }
});

test('a custom fetch is used for every request', async () => {
  server.reset();
  const seen: string[] = [];
  const spy: typeof fetch = (input, init) => {
    seen.push(String(input instanceof Request ? input.url : input));
    return fetch(input, init);
  };
  expectVectors(['f'], await encoder({ fetch: spy }).embed(['f']));
  assert.deepEqual(seen, [`${server.url}/embeddings`]);
});

function restore(name: string, value: string | undefined) {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

test('abort: during a request, during a backoff sleep, and before starting', async () => {
  server.reset();
  server.setFaults({ kind: 'hang' });
  let ac = new AbortController();
  let t0 = Date.now();
  setTimeout(() => ac.abort(), 100);
  let err = await rejects(encoder({ timeoutMs: 60_000 }).embed(['a'], { signal: ac.signal }));
  assert.equal(err.name, 'AbortError');
  assert.ok(Date.now() - t0 < 30_000, 'the abort, not the 60 s timeout, ended the request');

  server.reset();
  server.setFaults({ kind: 'status', status: 429, retryAfterSeconds: 30 });
  ac = new AbortController();
  t0 = Date.now();
  const { events, onEvent } = collect();
  const p = encoder().embed(['a'], { signal: ac.signal, onEvent });
  setTimeout(() => ac.abort(new Error('shutting down')), 100);
  err = await rejects(p);
  assert.equal(err.message, 'shutting down');
  assert.ok(Date.now() - t0 < 20_000, 'the abort, not the 30 s Retry-After, ended the wait');
  assert.ok(events.some((x) => x.type === 'retry' && x.delayMs >= 30_000));
  assert.equal(server.stats.requests, 1);

  server.reset();
  err = await rejects(encoder().embed(['a'], { signal: AbortSignal.abort() }));
  assert.equal(err.name, 'AbortError');
  assert.equal(server.stats.requests, 0);
});

test('the API key is in no log line, error message, stack or printed property', () => {
  assert.ok(logLines.length > 20, `${logLines.length} log lines`);
  assert.ok(logLines.some((l) => l.includes('retrying')));
  assert.ok(caught.length >= 15, `${caught.length} errors`);
  for (const line of logLines) assert.ok(!line.includes(KEY) && !line.includes('SECRET-abc123'), line);
  for (const err of caught) {
    const e = err as Error & { details?: string[] };
    for (const text of [
      e.message,
      e.stack ?? '',
      JSON.stringify(e),
      inspect(e, { depth: 10 }),
      (e.details ?? []).join('\n'),
    ]) {
      assert.ok(!text.includes(KEY), text);
    }
  }
  const e = encoder();
  assert.ok(!inspect(e, { depth: 10 }).includes(KEY));
  assert.ok(!JSON.stringify(e.identity).includes(KEY));
});
