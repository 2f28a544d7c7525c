import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {
  fakeEmbedding,
  findPair,
  overlapGrade,
  startOpenAIServer,
  type ChatMessage,
  type OpenAIServer,
} from './support/openai-server.js';

const KEY = 'sk-test-server-key';
let server: OpenAIServer;
/** The real SDK, for /v1/chat/completions. */
let client: OpenAI;

before(async () => {
  server = await startOpenAIServer({ apiKey: KEY, modelDimensions: { 'tiny-model': 16 } });
  client = new OpenAI({ apiKey: KEY, baseURL: server.url, maxRetries: 0 });
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

// --- /v1/chat/completions: the stand-in LLM judge, driven with the real `openai` SDK ---

const JUDGE = 'judge-model';
const RUBRIC = 'Grade how relevant the passage is to the query, 0 to 3. Answer with a JSON object {"grade": N}.';

function messages(query: string, passage: string): ChatMessage[] {
  return [
    { role: 'system', content: RUBRIC },
    { role: 'user', content: `Query: ${query}\nPassage: ${passage}` },
  ];
}

async function judge(query: string, passage: string, extra: Record<string, unknown> = {}) {
  return client.chat.completions.create({
    model: JUDGE,
    temperature: 0,
    response_format: { type: 'json_object' },
    messages: messages(query, passage) as OpenAI.Chat.ChatCompletionMessageParam[],
    ...extra,
  });
}

function status(err: unknown): number | undefined {
  return err instanceof OpenAI.APIError ? err.status : undefined;
}

test('the default judge answers {"grade": N} from word overlap, and records what was sent', async () => {
  server.reset();
  const query = 'solar panel efficiency';
  const cases: Array<[string, number]> = [
    ['Efficiency of a solar panel depends on the cell.', 3],
    ['The panel met on Tuesday; solar matters were discussed.', 3],
    ['A solar eclipse darkens the sky.', 2],
    ['Cooking pasta needs salted water.', 0],
  ];
  for (const [passage, grade] of cases) {
    const res = await judge(query, passage);
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.model, JUDGE);
    assert.equal(res.choices.length, 1);
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.equal(res.choices[0]!.message.role, 'assistant');
    assert.deepEqual(JSON.parse(res.choices[0]!.message.content!), { grade });
    assert.equal(overlapGrade(query, passage), grade);
    const text = [RUBRIC, `Query: ${query}\nPassage: ${passage}`];
    const prompt = text.reduce((a, t) => a + Math.ceil(Buffer.byteLength(t) / 4) + 4, 0);
    assert.deepEqual(res.usage, {
      prompt_tokens: prompt,
      completion_tokens: Math.ceil(Buffer.byteLength(res.choices[0]!.message.content!) / 4),
      total_tokens: prompt + res.usage!.completion_tokens,
    });
  }
  assert.equal(overlapGrade('four words query here', 'one word: query'), 1);
  const rec = server.chat.stats.log[0]!;
  assert.equal(rec.temperature, 0);
  assert.deepEqual(rec.responseFormat, { type: 'json_object' });
  assert.equal(rec.query, query);
  assert.equal(rec.passage, cases[0]![0]);
  assert.equal(rec.status, 200);
  assert.equal(server.chat.pairCalls(query, cases[0]![0]), 1);
  assert.equal(server.chat.billedPairCalls(query, cases[3]![0]), 1);
  assert.equal(server.chat.pairCalls(query, 'never asked'), 0);
  assert.deepEqual(server.chat.pairsBilledTwice(), []);
  await judge(query, cases[0]![0]);
  assert.deepEqual(server.chat.pairsBilledTwice(), [{ query, passage: cases[0]![0], calls: 2 }]);
  assert.equal(server.chat.stats.requests, 5);
  assert.equal(server.chat.stats.ok, 5);
  assert.equal(server.stats.requests, 0, 'the embeddings counters are untouched');
});

test('how the pair is found: last user message, Query: and Passage: lines, the passage ends at --- or a Query: line', () => {
  const system: ChatMessage = { role: 'system', content: 'Example:\nQuery: cats\nPassage: dogs' };
  assert.deepEqual(findPair([system, { role: 'user', content: 'Query: q1\nPassage: line one\n\nline two' }]), {
    query: 'q1',
    passage: 'line one\n\nline two',
  });
  assert.deepEqual(findPair([{ role: 'user', content: 'Passage: p\nmore\n---\nQuery: q\nAnswer in JSON.' }]), {
    query: 'q',
    passage: 'p\nmore',
  });
  assert.deepEqual(findPair([{ role: 'user', content: 'Passage: p1\nQuery: q1' }]), { query: 'q1', passage: 'p1' });
  assert.deepEqual(
    findPair([
      { role: 'user', content: 'Query: old\nPassage: old' },
      { role: 'assistant', content: '{"grade": 1}' },
      { role: 'user', content: [{ type: 'text', text: '  Query: new\n  Passage: text' }] },
    ]),
    { query: 'new', passage: 'text' },
  );
  assert.equal(findPair([system]), undefined);
  assert.equal(findPair([{ role: 'user', content: 'Query: only a query' }]), undefined);
});

test('a prompt without a pair is answered grade 0 and not counted per pair', async () => {
  server.reset();
  const res = await client.chat.completions.create({
    model: JUDGE,
    temperature: 0,
    response_format: { type: 'json_object' },
    messages: [{ role: 'user', content: 'Say a grade in json.' }],
  });
  assert.deepEqual(JSON.parse(res.choices[0]!.message.content!), { grade: 0 });
  assert.equal(server.chat.stats.pairCalls.size, 0);
});

test('a grader from the options or set later decides; a string answer is sent as is', async () => {
  const seen: Array<[string | undefined, string | undefined, number | undefined]> = [];
  const s = await startOpenAIServer({
    chat: {
      grader: (ctx) => {
        seen.push([ctx.query, ctx.passage, ctx.temperature]);
        return ctx.passage?.length ?? 0;
      },
    },
  });
  try {
    const c = new OpenAI({ apiKey: 'k', baseURL: s.url, maxRetries: 0 });
    const ask = () =>
      c.chat.completions.create({
        model: JUDGE,
        temperature: 0,
        response_format: { type: 'json_object' },
        messages: messages('q', 'abcde') as OpenAI.Chat.ChatCompletionMessageParam[],
      });
    assert.equal((await ask()).choices[0]!.message.content, '{"grade": 5}');
    assert.deepEqual(seen, [['q', 'abcde', 0]]);
    s.chat.setGrader(() => 'I think it is a 2.');
    assert.equal((await ask()).choices[0]!.message.content, 'I think it is a 2.');
    s.chat.setGrader();
    assert.equal((await ask()).choices[0]!.message.content, '{"grade": 5}', 'back to the option’s grader');
  } finally {
    await s.close();
  }
});

test('response_format: without JSON mode the grade comes in a ```json fence; JSON mode needs the word json', async () => {
  server.reset();
  const plain = await client.chat.completions.create({
    model: JUDGE,
    temperature: 0,
    messages: messages('solar', 'solar power') as OpenAI.Chat.ChatCompletionMessageParam[],
  });
  assert.equal(plain.choices[0]!.message.content, '```json\n{"grade": 3}\n```');
  assert.equal(server.chat.stats.log[0]!.responseFormat, undefined);
  const noJsonWord = client.chat.completions.create({
    model: JUDGE,
    temperature: 0,
    response_format: { type: 'json_object' },
    messages: [{ role: 'user', content: 'Query: a\nPassage: b' }],
  });
  await assert.rejects(noJsonWord, (e) => status(e) === 400 && /must contain the word 'json'/.test(String(e)));
  await assert.rejects(judge('a', 'b', { temperature: 5 }), (e) => status(e) === 400);
  await assert.rejects(client.chat.completions.create({ model: JUDGE, messages: [] }), (e) => status(e) === 400);
});

test('temperature: at 0 the default judge is stable; unset (OpenAI default 1) its grades wobble, reproducibly', async () => {
  server.reset();
  const query = 'solar panel efficiency';
  const passage = 'A solar eclipse darkens the sky.';
  const grades = async (extra: Record<string, unknown>) => {
    const out: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await client.chat.completions.create({
        model: JUDGE,
        response_format: { type: 'json_object' },
        messages: messages(query, passage) as OpenAI.Chat.ChatCompletionMessageParam[],
        ...extra,
      });
      out.push(JSON.parse(res.choices[0]!.message.content!).grade);
    }
    return out;
  };
  assert.deepEqual(await grades({ temperature: 0 }), Array(20).fill(2));
  const warm = await grades({});
  assert.ok(
    warm.some((g) => g !== 2),
    `${warm}`,
  );
  assert.ok(
    warm.every((g) => g === 1 || g === 2 || g === 3),
    `${warm}`,
  );
  assert.equal(server.chat.stats.log[20]!.temperature, undefined, 'unset is recorded as unset');
  server.reset();
  assert.deepEqual(await grades({ temperature: 0 }), Array(20).fill(2));
  assert.deepEqual(await grades({}), warm, 'the same wobble after a reset: reproducible');
});

test('faults: non-JSON, out of range, other keys, empty choices, finish_reason length, 5xx, malformed body', async () => {
  server.reset();
  server.chat.setFaults(
    { kind: 'non-json' },
    { kind: 'grade-out-of-range' },
    { kind: 'other-keys' },
    { kind: 'empty-choices' },
    { kind: 'finish-length' },
    { kind: 'status', status: 503 },
    { kind: 'answer', content: '{"grade": 1.5}' },
    { kind: 'malformed-json' },
  );
  const content = async () => (await judge('q', 'p')).choices[0]?.message.content;
  const prose = await content();
  assert.equal(prose, 'The passage is relevant. Grade: 2');
  assert.throws(() => JSON.parse(prose!), SyntaxError);
  assert.deepEqual(JSON.parse((await content())!), { grade: 7 });
  const other = JSON.parse((await content())!);
  assert.equal('grade' in other, false);
  assert.deepEqual(await judge('q', 'p').then((r) => r.choices), []);
  const cut = await judge('q', 'p');
  assert.equal(cut.choices[0]!.finish_reason, 'length');
  assert.throws(() => JSON.parse(cut.choices[0]!.message.content!), SyntaxError);
  await assert.rejects(judge('q', 'p'), (e) => e instanceof OpenAI.InternalServerError && status(e) === 503);
  assert.equal(await content(), '{"grade": 1.5}');
  await assert.rejects(judge('q', 'p'));
  assert.deepEqual(JSON.parse((await content())!), { grade: 0 }, 'faults used up');
  assert.equal(server.chat.stats.faulted, 8);
  assert.equal(server.stats.faulted, 0, "chat faults are not the embeddings endpoint's");
  assert.equal(server.chat.pairCalls('q', 'p'), 9);
  assert.equal(server.chat.billedPairCalls('q', 'p'), 8, 'every 200 is billed, bad answer or not; the 503 is not');
  assert.deepEqual(
    server.chat.stats.log.map((r) => r.fault ?? 'none'),
    [
      'non-json',
      'grade-out-of-range',
      'other-keys',
      'empty-choices',
      'finish-length',
      'status',
      'answer',
      'malformed-json',
      'none',
    ],
  );
});

test('rate limits: RPM over its own window, 429 with Retry-After; embeddings keep their own window', async () => {
  const s = await startOpenAIServer({ chat: { rpm: 1 }, windowMs: 60_000 });
  try {
    const c = new OpenAI({ apiKey: 'k', baseURL: s.url, maxRetries: 0 });
    const ask = () => c.chat.completions.create({ model: JUDGE, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal((await ask()).choices.length, 1);
    const err = await ask().then(
      () => assert.fail('expected a 429'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.RateLimitError);
    assert.ok(Number(err.headers?.get('retry-after')) >= 1);
    assert.ok(Number(err.headers?.get('retry-after-ms')) > 0);
    assert.equal(err.headers?.get('x-ratelimit-limit-requests'), '1');
    assert.equal(s.chat.stats.rateLimited, 1);
    assert.equal(s.chat.stats.log[1]!.status, 429);
    for (let i = 0; i < 3; i++) assert.equal((await c.embeddings.create({ model: 'm', input: 'x' })).data.length, 1);
  } finally {
    await s.close();
  }
  const t = await startOpenAIServer({ chat: { tpm: 10 } });
  try {
    const c = new OpenAI({ apiKey: 'k', baseURL: t.url, maxRetries: 0 });
    const long = c.chat.completions.create({ model: JUDGE, messages: [{ role: 'user', content: 'x'.repeat(40) }] });
    await assert.rejects(long, (e) => e instanceof OpenAI.RateLimitError);
  } finally {
    await t.close();
  }
});

test('max_tokens below the answer cuts it with finish_reason length; the key is checked', async () => {
  server.reset();
  const res = await judge('solar', 'solar', { max_tokens: 1 });
  assert.equal(res.choices[0]!.finish_reason, 'length');
  assert.equal(res.choices[0]!.message.content, '{"gr');
  assert.equal(server.chat.stats.log[0]!.maxTokens, 1);
  const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: server.url, maxRetries: 0 });
  await assert.rejects(
    wrong.chat.completions.create({ model: JUDGE, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.AuthenticationError,
  );
  assert.equal(server.stats.unauthorized, 1);
  assert.equal(server.chat.stats.requests, 1, 'a refused key is not a chat request');
});
