import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeEmbedding, startOpenAIServer, type OpenAIServer } from './support/openai-server.js';

const KEY = 'sk-test-server-key';
let server: OpenAIServer;

before(async () => {
  server = await startOpenAIServer({ apiKey: KEY, modelDimensions: { 'tiny-model': 16 } });
});
after(() => server.close());

async function post(body: unknown, key: string | null = KEY, url = `${server.url}/embeddings`) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  return { res, text };
}

function decode(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

test('listens on 127.0.0.1 with a /v1 base URL', () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  assert.ok(server.port > 0);
});

test('deterministic unit vectors, default and requested dimensions, float and base64', async () => {
  server.reset();
  const a = JSON.parse((await post({ model: 'text-embedding-3-small', input: ['hello', 'world'] })).text);
  assert.equal(a.data.length, 2);
  assert.equal(a.data[0].embedding.length, 1536);
  assert.deepEqual(
    a.data.map((d: { index: number }) => d.index),
    [0, 1],
  );
  assert.ok(a.usage.prompt_tokens > 0 && a.usage.total_tokens === a.usage.prompt_tokens);
  const norm = Math.hypot(...(a.data[0].embedding as number[]));
  assert.ok(Math.abs(norm - 1) < 1e-5);

  const b = JSON.parse(
    (await post({ model: 'text-embedding-3-small', input: 'hello', dimensions: 8, encoding_format: 'base64' })).text,
  );
  const v = decode(b.data[0].embedding);
  assert.deepEqual(v, fakeEmbedding('text-embedding-3-small', 'hello', 8));
  const c = JSON.parse((await post({ model: 'text-embedding-3-large', input: 'x' })).text);
  assert.equal(c.data[0].embedding.length, 3072);
  const d = JSON.parse((await post({ model: 'tiny-model', input: 'x' })).text);
  assert.equal(d.data[0].embedding.length, 16);

  assert.equal(server.stats.requests, 4);
  assert.equal(server.stats.textCalls.get('hello'), 2);
  assert.deepEqual(
    server.stats.log.map((r) => r.items),
    [2, 1, 1, 1],
  );
});

test('401 without the right key, 400 on bad input', async () => {
  server.reset();
  assert.equal((await post({ model: 'm', input: 'x' }, null)).res.status, 401);
  assert.equal((await post({ model: 'm', input: 'x' }, 'sk-wrong')).res.status, 401);
  assert.equal((await post({ model: 'text-embedding-3-small', input: [] })).res.status, 400);
  assert.equal((await post({ model: 'text-embedding-3-small', input: [''] })).res.status, 400);
  assert.equal((await post({ model: 'text-embedding-3-small', input: 'x', dimensions: 5000 })).res.status, 400);
  assert.equal(server.stats.unauthorized, 2);
});

test('faults: status, wrong dims, NaN, Infinity, short list, shuffle, malformed JSON, predicate', async () => {
  server.reset();
  const body = { model: 'text-embedding-3-small', input: ['a', 'b', 'c', 'd'], dimensions: 4 };
  server.setFaults(
    { fault: { kind: 'status', status: 503 }, times: 2 },
    { kind: 'wrong-dimensions', dimensions: 3 },
    { kind: 'nan', item: 1 },
    { kind: 'infinity' },
    { kind: 'short-list' },
    { kind: 'shuffle' },
    { kind: 'malformed-json' },
  );
  assert.equal((await post(body)).res.status, 503);
  assert.equal((await post(body)).res.status, 503);
  assert.equal(JSON.parse((await post(body)).text).data[0].embedding.length, 3);
  const nan = JSON.parse((await post(body)).text);
  assert.equal(nan.data[1].embedding[0], null);
  const inf = JSON.parse((await post(body)).text);
  assert.equal(inf.data[0].embedding[0], Infinity);
  assert.equal(JSON.parse((await post(body)).text).data.length, 3);
  const shuffled = JSON.parse((await post(body)).text).data.map((d: { index: number }) => d.index);
  assert.notDeepEqual(shuffled, [0, 1, 2, 3]);
  assert.deepEqual([...shuffled].sort(), [0, 1, 2, 3]);
  const bad = await post(body);
  assert.equal(bad.res.status, 200);
  assert.throws(() => JSON.parse(bad.text), SyntaxError);
  assert.equal((await post(body)).res.status, 200); // faults used up

  server.setFaults({
    fault: { kind: 'status', status: 500 },
    times: Infinity,
    match: (r) => r.texts.includes('poison'),
  });
  assert.equal((await post({ ...body, input: ['ok'] })).res.status, 200);
  assert.equal((await post({ ...body, input: ['x', 'poison'] })).res.status, 500);
  assert.equal((await post({ ...body, input: ['poison'] })).res.status, 500);

  server.setFaults({ kind: 'nan' });
  const b64 = JSON.parse((await post({ ...body, encoding_format: 'base64' })).text);
  assert.ok(Number.isNaN(decode(b64.data[0].embedding)[0]));
  assert.equal(server.stats.faulted, 11);
});

test('hang: never answers, close() still returns', async () => {
  const s = await startOpenAIServer();
  s.setFaults({ kind: 'hang' });
  const ac = new AbortController();
  const pending = fetch(`${s.url}/embeddings`, {
    method: 'POST',
    body: JSON.stringify({ model: 'text-embedding-3-small', input: 'x' }),
    signal: ac.signal,
  });
  const winner = await Promise.race([
    pending.then(
      () => 'answered',
      () => 'failed',
    ),
    new Promise((r) => setTimeout(() => r('waiting'), 150)),
  ]);
  assert.equal(winner, 'waiting');
  ac.abort();
  await pending.catch(() => undefined);
  await s.close();
});

test('RPM and TPM limits answer 429 with Retry-After and x-ratelimit headers, over a sliding window', async () => {
  const s = await startOpenAIServer({ rpm: 2, windowMs: 300 });
  try {
    const body = JSON.stringify({ model: 'text-embedding-3-small', input: 'x', dimensions: 2 });
    const go = () => fetch(`${s.url}/embeddings`, { method: 'POST', body });
    assert.equal((await go()).status, 200);
    const second = await go();
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-ratelimit-remaining-requests'), '0');
    const third = await go();
    assert.equal(third.status, 429);
    assert.equal(third.headers.get('retry-after'), '1');
    const ms = Number(third.headers.get('retry-after-ms'));
    assert.ok(ms > 0 && ms <= 300, String(ms));
    assert.equal(third.headers.get('x-ratelimit-limit-requests'), '2');
    assert.equal(s.stats.rateLimited, 1);
    await new Promise((r) => setTimeout(r, ms + 10));
    assert.equal((await go()).status, 200);
  } finally {
    await s.close();
  }

  const t = await startOpenAIServer({ tpm: 10, windowMs: 200 });
  try {
    const go = (input: string) =>
      fetch(`${t.url}/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'm', input }) });
    assert.equal((await go('x'.repeat(32))).status, 200); // 8 tokens
    const over = await go('x'.repeat(12)); // 3 more: 11 > 10
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get('retry-after-ms')) <= 200);
    assert.equal(over.headers.get('x-ratelimit-limit-tokens'), '10');
    assert.equal((await go('x'.repeat(8))).status, 200); // 2 more: 10 fits
    assert.equal(t.stats.billedTextCalls.get('x'.repeat(12)), undefined);
    assert.equal(t.stats.textCalls.get('x'.repeat(12)), 1);
  } finally {
    await t.close();
  }
});

test('latency as a function of batch size', async () => {
  const s = await startOpenAIServer({ latencyMs: (items) => items * 20 });
  try {
    const t0 = Date.now();
    await fetch(`${s.url}/embeddings`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', input: ['a', 'b', 'c', 'd', 'e'] }),
    });
    assert.ok(Date.now() - t0 >= 95);
  } finally {
    await s.close();
  }
});
