// The openai:<chat model> judge against the local test server's
// /v1/chat/completions. No database: the same on both passes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { EncoderError, InputError } from '../src/errors.js';
import type { EncoderEvent } from '../src/encoders/index.js';
import { createLogger } from '../src/log/index.js';
import { createOpenAIJudge, UMBRELA_PROMPT, type Judge, type OpenAIJudgeOptions } from '../src/judges/index.js';
import { PROMPT_VERSION, parseAnswer, promptSha256 } from '../src/judges/openai/index.js';
import { overlapGrade, startOpenAIServer, type OpenAIServer } from './support/openai-server.js';

const KEY = 'sk-judge-SECRET-7f3a9c2e';
const MODEL = 'gpt-4o-mini';
const FAST = { baseMs: 5, maxMs: 50 };

let server: OpenAIServer;
before(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
});
after(() => server.close());

/** Everything any judge logged, and every error caught: the key must never show up. */
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
const caught: unknown[] = [];

function judgeFor(extra: OpenAIJudgeOptions = {}, s: OpenAIServer = server): Judge {
  return createOpenAIJudge(MODEL, { baseURL: s.url, apiKey: KEY, backoff: FAST, logger, ...extra });
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

const QUERY = 'solar panel efficiency';
const PAIRS = [
  { query: QUERY, passage: 'Efficiency of a solar panel depends on the cell.' },
  { query: QUERY, passage: 'A solar eclipse darkens the sky.' },
  { query: QUERY, passage: 'Cooking pasta needs salted water.' },
  { query: 'four words query here', passage: 'one word: query' },
];

test('grades are the server grader’s, one request per pair, raw = grade; nothing is asked twice', async () => {
  server.reset();
  const judge = judgeFor();
  const verdicts = await judge.judge(PAIRS);
  assert.deepEqual(
    verdicts,
    PAIRS.map((p) => ({ ok: true, grade: overlapGrade(p.query, p.passage), raw: overlapGrade(p.query, p.passage) })),
  );
  assert.deepEqual(
    verdicts.map((v) => (v.ok ? v.grade : -1)),
    [3, 2, 0, 1],
    'the cases cover four grades',
  );
  assert.equal(server.chat.stats.requests, PAIRS.length);
  for (const p of PAIRS) assert.equal(server.chat.billedPairCalls(p.query, p.passage), 1);
  assert.deepEqual(server.chat.pairsBilledTwice(), []);
  assert.deepEqual(await judge.judge([]), []);
});

test('a custom grader decides; the request has temperature 0, JSON mode, a small answer budget and the rubric', async () => {
  server.reset();
  server.chat.setGrader((ctx) => (ctx.passage === 'two' ? 2 : 1));
  const verdicts = await judgeFor().judge([
    { query: 'q', passage: 'two' },
    { query: 'q', passage: 'other' },
  ]);
  assert.deepEqual(verdicts, [
    { ok: true, grade: 2, raw: 2 },
    { ok: true, grade: 1, raw: 1 },
  ]);
  const rec = server.chat.stats.log[0]!;
  assert.equal(rec.model, MODEL);
  assert.equal(rec.temperature, 0);
  assert.deepEqual(rec.responseFormat, { type: 'json_object' });
  assert.ok(rec.maxTokens !== undefined && rec.maxTokens <= 32, `max tokens ${rec.maxTokens}`);
  assert.equal(rec.messages[0]!.role, 'system');
  assert.equal(rec.messages[0]!.content, UMBRELA_PROMPT.system);
  for (const line of [
    '0 = represents that the passage has nothing to do with the query',
    '1 = represents that the passage seems related to the query but does not answer it',
    '3 = represents that the passage is dedicated to the query and contains the exact answer',
    '{"grade": N}',
  ]) {
    assert.ok(UMBRELA_PROMPT.system.includes(line), line);
  }
  assert.deepEqual(rec.messages[1], { role: 'user', content: 'Query: q\nPassage: two' });
  assert.equal(rec.query, 'q');
  assert.equal(rec.passage, 'two');
});

test('an invalid answer is asked again once: bad then good succeeds; bad twice is ok:false quoting the answer', async () => {
  server.reset();
  const judge = judgeFor();
  const pair = { query: 'solar', passage: 'solar power' };
  server.chat.setFaults({ kind: 'non-json' });
  assert.deepEqual(await judge.judge([pair]), [{ ok: true, grade: 3, raw: 3 }]);
  assert.equal(server.chat.pairCalls(pair.query, pair.passage), 2);

  server.reset();
  server.chat.setFaults(
    { kind: 'non-json', content: 'The passage is relevant.\nI would say 2.' },
    { kind: 'non-json' },
  );
  const [bad] = await judge.judge([pair]);
  assert.equal(bad!.ok, false);
  const reason = (bad as { reason: string }).reason;
  assert.match(
    reason,
    /^the answer is not JSON \{"grade": 0\.\.3\}: "The passage is relevant\. Grade: 2" \(asked 2 times\)$/,
  );
  assert.ok(!reason.includes('\n'), 'one line');
  assert.equal(server.chat.pairCalls(pair.query, pair.passage), 2, 'asked exactly twice');

  const cases: Array<[Parameters<OpenAIServer['chat']['setFaults']>[0], RegExp]> = [
    [{ kind: 'grade-out-of-range' }, /^the answer's grade is not an integer 0\.\.3: "\{"grade":7\}"/],
    [{ kind: 'grade-out-of-range', grade: -1 }, /grade is not an integer 0\.\.3/],
    [{ kind: 'answer', content: '{"grade": 1.5}' }, /grade is not an integer 0\.\.3: "\{"grade": 1\.5\}"/],
    [{ kind: 'answer', content: '{"grade": "2"}' }, /grade is not an integer 0\.\.3/],
    [{ kind: 'other-keys' }, /^the answer has no "grade": "\{"score":2,"reason":"relevant"\}"/],
    [{ kind: 'answer', content: '[2]' }, /^the answer is not a JSON object/],
    [{ kind: 'answer', content: '```json\n{"grade": 2}\n```' }, /^the answer is not JSON/],
    [{ kind: 'finish-length' }, /^the answer is not JSON .*: "\{"grade":"/],
    [{ kind: 'empty-choices' }, /^the answer is empty/],
  ];
  for (const [fault, expected] of cases) {
    server.reset();
    server.chat.setFaults({ fault: fault as never, times: 2 });
    const [v] = await judge.judge([pair]);
    assert.equal(v!.ok, false, JSON.stringify(fault));
    assert.match((v as { reason: string }).reason, expected);
    assert.equal(server.chat.stats.requests, 2);
  }
});

test('a long bad answer is quoted short', () => {
  const r = parseAnswer('x'.repeat(500));
  assert.equal(r.ok, false);
  assert.ok((r as { reason: string }).reason.length < 120);
  assert.deepEqual(parseAnswer(' {"grade": 0, "why": "none"} '), { ok: true, grade: 0 });
  assert.deepEqual(parseAnswer('{"grade": 3}'), { ok: true, grade: 3 });
  assert.equal(parseAnswer('{"grade": 4}').ok, false);
  assert.equal(parseAnswer('null').ok, false);
  assert.equal(parseAnswer(null).ok, false);
});

test('429 with Retry-After is honoured and reported to the quota; 5xx is retried; both then succeed', async () => {
  server.reset();
  const judge = judgeFor();
  const pair = { query: 'solar', passage: 'solar power' };
  server.chat.setFaults({ kind: 'status', status: 429, retryAfterMs: 120 }, { kind: 'status', status: 503 });
  const { events, onEvent } = collect();
  assert.deepEqual(await judge.judge([pair], { onEvent }), [{ ok: true, grade: 3, raw: 3 }]);
  assert.deepEqual(
    events.map((e) => e.type),
    ['request', 'rate_limited', 'retry', 'request', 'retry', 'request', 'response'],
  );
  const limited = events.find((e) => e.type === 'rate_limited') as Extract<EncoderEvent, { type: 'rate_limited' }>;
  assert.equal(limited.retryAfterMs, 120);
  const firstRetry = events.find((e) => e.type === 'retry') as Extract<EncoderEvent, { type: 'retry' }>;
  assert.ok(firstRetry.delayMs >= 120, 'waits at least what Retry-After asked');
  const request = events[0] as Extract<EncoderEvent, { type: 'request' }>;
  assert.equal(request.items, 1);
  assert.equal(request.tokens, judge.countTokens(pair));
  const response = events.at(-1) as Extract<EncoderEvent, { type: 'response' }>;
  assert.equal(response.tokens, server.chat.stats.log.at(-1)!.promptTokens, 'the billed prompt tokens');
  assert.deepEqual(
    server.chat.stats.log.map((r) => r.status),
    [429, 503, 200],
  );
});

test('the server’s own rate limit: the judge waits out its Retry-After and every pair is graded once', async () => {
  const s = await startOpenAIServer({ chat: { rpm: 2 }, windowMs: 2000 });
  try {
    const judge = judgeFor({ apiKey: 'k' }, s);
    const { events, onEvent } = collect();
    const verdicts = await judge.judge(PAIRS, { onEvent });
    assert.deepEqual(
      verdicts.map((v) => (v.ok ? v.grade : -1)),
      [3, 2, 0, 1],
    );
    assert.ok(s.chat.stats.rateLimited >= 1);
    assert.equal(events.filter((e) => e.type === 'rate_limited').length, s.chat.stats.rateLimited);
    assert.equal(s.chat.stats.ok, PAIRS.length);
    assert.deepEqual(s.chat.pairsBilledTwice(), []);
  } finally {
    await s.close();
  }
});

test('a whole-call failure throws one line without the key: 5xx after the attempts, 401, 400', async () => {
  server.reset();
  server.chat.setFaults({ fault: { kind: 'status', status: 500, message: `upstream saw ${KEY}` }, times: Infinity });
  const err = await rejects(judgeFor({ maxAttempts: 3 }).judge([{ query: 'q', passage: 'p' }]));
  assert.ok(err instanceof EncoderError, String(err));
  assert.match(err.message, /^judge openai:gpt-4o-mini failed after 3 attempts \(pair 0\): 500 upstream saw /);
  assert.equal(server.chat.stats.requests, 3);

  const echo = await startOpenAIServer({ apiKey: KEY, echoKeyOn401: true });
  try {
    const wrong = 'sk-wrong-SECRET-0000';
    const e401 = await rejects(judgeFor({ apiKey: wrong }, echo).judge([{ query: 'q', passage: 'p' }]));
    assert.ok(e401 instanceof InputError);
    assert.match(e401.message, /authentication failed at 127\.0\.0\.1:\d+/);
    assert.ok(!e401.message.includes(wrong));
  } finally {
    await echo.close();
  }
  const judge = judgeFor();
  for (const e of caught) {
    assert.ok(!String((e as Error).message).includes(KEY), String(e));
    assert.ok(!inspect(e, { depth: 5 }).includes(KEY));
  }
  assert.ok(!inspect(judge, { depth: 5 }).includes(KEY));
  assert.ok(!JSON.stringify(judge.identity).includes(KEY));
  assert.ok(logLines.length > 0);
  assert.ok(!logLines.some((l) => l.includes(KEY)));
});

test('an abort stops the call; the first failure stops the other pairs of a batch', async () => {
  server.reset();
  server.chat.setFaults({ fault: { kind: 'hang' }, times: Infinity });
  const ctl = new AbortController();
  const p = judgeFor().judge([{ query: 'q', passage: 'p' }], { signal: ctl.signal });
  setTimeout(() => ctl.abort(new Error('stop now')), 20);
  const err = await rejects(p);
  assert.equal(err.message, 'stop now');

  server.reset();
  server.chat.setFaults({
    fault: { kind: 'status', status: 400, message: 'bad pair' },
    match: (r) => r.passage === 'p1',
  });
  const batch = judgeFor({ maxBatchPairs: 4 });
  assert.equal(batch.maxBatchPairs, 4);
  const e400 = await rejects(
    batch.judge([
      { query: 'q', passage: 'p0' },
      { query: 'q', passage: 'p1' },
    ]),
  );
  assert.ok(e400 instanceof InputError);
  assert.match(e400.message, /request refused \(pair 1\): 400 bad pair/);
});

test('maxBatchPairs > 1 grades the pairs of a call concurrently, in order', async () => {
  const s = await startOpenAIServer({ latencyMs: 30 });
  try {
    const judge = judgeFor({ apiKey: 'k', maxBatchPairs: 4 }, s);
    const verdicts = await judge.judge(PAIRS);
    assert.deepEqual(
      verdicts.map((v) => (v.ok ? v.grade : -1)),
      [3, 2, 0, 1],
    );
    assert.equal(s.chat.stats.requests, 4);
  } finally {
    await s.close();
  }
  assert.equal(judgeFor().maxBatchPairs, 1, 'default: one pair per call');
});

test('OPENAI_BASE_URL and OPENAI_API_KEY from the environment', async () => {
  server.reset();
  const saved = { base: process.env.OPENAI_BASE_URL, key: process.env.OPENAI_API_KEY };
  try {
    process.env.OPENAI_BASE_URL = server.url;
    process.env.OPENAI_API_KEY = KEY;
    const judge = createOpenAIJudge(MODEL, { backoff: FAST });
    assert.deepEqual(await judge.judge([PAIRS[0]!]), [{ ok: true, grade: 3, raw: 3 }]);
    assert.equal(judge.identity.settings.baseURLHost, new URL(server.url).host);
    delete process.env.OPENAI_API_KEY;
    const e = await rejects(createOpenAIJudge(MODEL).judge([PAIRS[0]!]));
    assert.ok(e instanceof InputError, 'a server that needs a key gets the placeholder, and says so');
    assert.match(e.message, /set OPENAI_API_KEY/);
    delete process.env.OPENAI_BASE_URL;
    assert.throws(
      () => createOpenAIJudge(MODEL),
      (x: unknown) => x instanceof InputError && /apiKey: missing; set OPENAI_API_KEY/.test(x.message),
    );
  } finally {
    if (saved.base === undefined) delete process.env.OPENAI_BASE_URL;
    else process.env.OPENAI_BASE_URL = saved.base;
    if (saved.key === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = saved.key;
  }
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: KEY };
  assert.deepEqual(await createOpenAIJudge(MODEL, { env }).judge([PAIRS[2]!]), [{ ok: true, grade: 0, raw: 0 }]);
});

test('bad options: one InputError listing every problem, never the URL or the key', () => {
  assert.throws(
    () =>
      createOpenAIJudge('', {
        baseURL: `ftp://user:${KEY}@host`,
        apiKey: KEY,
        maxTokens: 10,
        timeoutMs: -1,
        prompt: { version: '', system: 'no format named', user: 'Query: {query}' },
      }),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      const all = [e.message, ...e.details].join('\n');
      assert.ok(!all.includes(KEY));
      assert.match(all, /model: required/);
      assert.match(all, /baseURL: not an http\(s\) URL/);
      assert.match(all, /timeoutMs: must be a positive integer/);
      assert.match(all, /prompt: must mention JSON/);
      assert.match(all, /prompt\.user: must hold \{passage\} exactly once/);
      return true;
    },
  );
  assert.throws(
    () => judgeFor({ maxTokens: 100 }),
    (e: unknown) => e instanceof InputError && /maxTokens: 100 leaves no room for the pair/.test(e.message),
  );
});

test('long inputs are cut to the token budget, the passage first, then the query; countTokens is what is sent', async () => {
  server.reset();
  const judge = judgeFor({ maxTokens: 400 });
  const longPassage = 'solar '.repeat(2000) + 'THE-END';
  const pair = { query: QUERY, passage: longPassage };
  assert.ok(judge.countTokens(pair) <= 400, `${judge.countTokens(pair)}`);
  assert.ok(judge.countTokens(pair) >= 380, 'the budget is used, not wasted');
  const [v] = await judge.judge([pair]);
  assert.equal(v!.ok, true);
  const rec = server.chat.stats.log[0]!;
  assert.equal(rec.query, QUERY, 'the query is kept whole');
  assert.ok(rec.passage!.startsWith('solar solar'));
  assert.ok(!rec.passage!.includes('THE-END'), 'the passage’s tail is cut');
  assert.ok(rec.passage!.length < longPassage.length);

  const short = { query: QUERY, passage: 'a short passage' };
  assert.ok(judge.countTokens(short) < judge.countTokens(pair));

  server.reset();
  const longQuery = { query: 'efficiency '.repeat(1000), passage: 'solar' };
  assert.ok(judge.countTokens(longQuery) <= 400);
  await judge.judge([longQuery]);
  const q = server.chat.stats.log[0]!;
  assert.equal(q.passage, '', 'a query above the budget leaves no room for the passage');
  assert.ok(q.query!.length > 0 && q.query!.length < longQuery.query.length);
  // Unknown models count bytes/4; the server does too, so the estimate is exact here.
  const local = createOpenAIJudge('local-judge', { baseURL: server.url, apiKey: KEY });
  server.reset();
  await local.judge([short]);
  assert.equal(local.countTokens(short), server.chat.stats.log[0]!.promptTokens + 3, 'plus the answer priming');
});

test('identity: stable, keyed by the prompt’s sha256, free of secrets; pricing known or given', () => {
  const a = judgeFor();
  const b = judgeFor({ maxBatchPairs: 3 });
  assert.deepEqual(a.identity, b.identity);
  const sha = promptSha256(UMBRELA_PROMPT);
  assert.match(sha, /^[0-9a-f]{64}$/);
  assert.deepEqual(a.identity, {
    id: `openai:${MODEL}@${sha.slice(0, 12)}`,
    kind: 'openai',
    spec: `openai:${MODEL}`,
    model: MODEL,
    revision: sha,
    settings: { promptVersion: PROMPT_VERSION, temperature: 0, maxTokens: 2048, baseURLHost: new URL(server.url).host },
  });
  assert.equal(PROMPT_VERSION, 'umbrela-v1');
  const edited = judgeFor({ prompt: { ...UMBRELA_PROMPT, system: UMBRELA_PROMPT.system + ' Be strict.' } });
  assert.notEqual(edited.identity.id, a.identity.id);
  assert.notEqual(edited.identity.revision, a.identity.revision);
  const renamed = judgeFor({ prompt: { ...UMBRELA_PROMPT, version: 'umbrela-v2' } });
  assert.notEqual(renamed.identity.id, a.identity.id);
  assert.equal(judgeFor({ maxTokens: 1000 }).identity.settings.maxTokens, 1000);
  assert.equal(
    createOpenAIJudge('gpt-4.1-mini', { baseURL: server.url, apiKey: KEY }).identity.id.split('@')[1],
    a.identity.id.split('@')[1],
  );
  const withCreds = createOpenAIJudge(MODEL, { baseURL: `http://user:${KEY}@127.0.0.1:1/v1`, apiKey: KEY });
  assert.ok(!JSON.stringify(withCreds.identity).includes(KEY));
  assert.equal(withCreds.identity.settings.baseURLHost, '127.0.0.1:1');

  assert.deepEqual(a.pricing, { inputPerMTokens: 0.15, outputPerMTokens: 0.6, outputTokensPerPair: 8 });
  for (const m of ['gpt-4o', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano']) {
    const p = createOpenAIJudge(m, { baseURL: server.url, apiKey: KEY }).pricing;
    assert.ok(p && p.inputPerMTokens > 0 && p.outputPerMTokens > p.inputPerMTokens, m);
  }
  assert.equal(createOpenAIJudge('llama3', { baseURL: server.url }).pricing, null, 'unknown model: no price');
  const given = { inputPerMTokens: 1, outputPerMTokens: 2, outputTokensPerPair: 8 };
  assert.deepEqual(createOpenAIJudge('llama3', { baseURL: server.url, pricing: given }).pricing, given);
});
