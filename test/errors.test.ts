import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, type TestDb } from './support/db.js';
import { ingestDocs, register, syntheticDocs } from './support/fill-version.js';
import {
  activate,
  createSearcher,
  requireVersion,
  rollback,
  EmbctlError,
  EncoderError,
  EncoderOutputError,
  ERROR_CODES,
  InputError,
  InternalError,
  InterruptedError,
  InvariantError,
  NotFoundError,
  RefusedError,
  ReplicaBehindError,
  UnavailableError,
  UsageError,
  WriteFailedError,
  type ErrorCode,
} from '../src/index.js';
import { READINESS_CODES, type ReadinessCode } from '../src/errors.js';
import type { Problem } from '../src/lifecycle/readiness.js';
import { EncoderDimensionsError } from '../src/encoders/dimensions-error.js';
import { EXIT_CODES, exitCodeOf } from '../src/cli/exit-codes.js';
import { HTTP_ANSWERS, toHttpError } from '../src/serve/error-status.js';
import { HttpError } from '../src/serve/http-util.js';

// The readiness codes of errors.ts are exactly lifecycle's Problem codes (checked by the compiler).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const readinessCodesMatch: Same<ReadinessCode, Problem['code']> = true;

/** One error of every code, each made the way library code makes it. */
const oneOfEach: Record<ErrorCode, EmbctlError> = {
  usage: new UsageError('bad flag'),
  invalid_input: new InputError('bad file', ['line 3: bad']),
  not_found: new NotFoundError('no version "x"'),
  refused: new RefusedError('refused'),
  retired: new RefusedError('retired', [], { code: 'retired' }),
  incomplete: new RefusedError('not backfilled', [], { code: 'incomplete' }),
  index_missing: new RefusedError('no index', [], { code: 'index_missing' }),
  index_invalid: new RefusedError('invalid index', [], { code: 'index_invalid' }),
  gate_failed: new RefusedError('gate failed', [], { code: 'gate_failed' }),
  gate_missing: new RefusedError('no gate', [], { code: 'gate_missing' }),
  canary_failed: new RefusedError('canary moved', [], { code: 'canary_failed' }),
  unavailable: new UnavailableError('database away', { retryAfterSeconds: 7 }),
  replica_behind: new ReplicaBehindError('v3 is not on this replica yet', { retryAfterSeconds: 3 }),
  encoder_failed: new EncoderError('encoder down'),
  encoder_bad_output: new EncoderOutputError('NaN'),
  write_failed: new WriteFailedError('trigger said no'),
  invariant: new InvariantError('bug'),
  interrupted: new InterruptedError('SIGINT'),
};

describe('error codes', () => {
  test('every code has one error class instance here, and it carries that code', () => {
    assert.equal(readinessCodesMatch, true);
    assert.deepEqual(Object.keys(oneOfEach).sort(), [...ERROR_CODES].sort());
    for (const [code, e] of Object.entries(oneOfEach)) assert.equal(e.code, code, e.name);
    assert.deepEqual(new Set(ERROR_CODES).size, ERROR_CODES.length, 'no code twice');
    for (const c of READINESS_CODES) assert.ok((ERROR_CODES as readonly string[]).includes(c), c);
  });

  test('the CLI table maps every code, and nothing else, to the exit codes the CLI always gave', () => {
    assert.deepEqual(Object.keys(EXIT_CODES).sort(), [...ERROR_CODES].sort());
    const exits = Object.fromEntries(Object.entries(oneOfEach).map(([code, e]) => [code, exitCodeOf(e)]));
    assert.deepEqual(exits, {
      usage: 2,
      invalid_input: 2,
      not_found: 2,
      refused: 1,
      retired: 1,
      incomplete: 1,
      index_missing: 1,
      index_invalid: 1,
      gate_failed: 1,
      gate_missing: 1,
      canary_failed: 1,
      unavailable: 1,
      replica_behind: 1,
      encoder_failed: 1,
      encoder_bad_output: 1,
      write_failed: 1,
      invariant: 1,
      interrupted: 130,
    });
  });

  test('the serve table maps every code, and nothing else, to an HTTP status and body code', () => {
    assert.deepEqual(Object.keys(HTTP_ANSWERS).sort(), [...ERROR_CODES].sort());
    const answers = Object.fromEntries(
      Object.entries(oneOfEach).map(([code, e]) => {
        const h = toHttpError(e);
        return [code, `${h.status} ${h.code} ${h.headers['retry-after'] ?? '-'}`];
      }),
    );
    assert.deepEqual(answers, {
      usage: '400 invalid_request -',
      invalid_input: '400 invalid_request -',
      not_found: '404 unknown_version -',
      refused: '409 refused -',
      retired: '409 refused -',
      incomplete: '409 refused -',
      index_missing: '409 refused -',
      index_invalid: '409 refused -',
      gate_failed: '409 refused -',
      gate_missing: '409 refused -',
      canary_failed: '409 refused -',
      unavailable: '503 database_unavailable 7',
      replica_behind: '503 replica_behind 3',
      encoder_failed: '503 unavailable 5',
      encoder_bad_output: '503 unavailable 5',
      write_failed: '503 unavailable 5',
      invariant: '500 internal -',
      interrupted: '503 unavailable 5',
    });
    // Messages and details pass through; the database's own failure is said without its driver text.
    assert.equal(toHttpError(oneOfEach.invalid_input).message, 'bad file');
    assert.deepEqual(toHttpError(oneOfEach.invalid_input).details, ['line 3: bad']);
    assert.equal(toHttpError(oneOfEach.unavailable).message, 'the database is unavailable right now: try again in 7 s');
    assert.equal(toHttpError(oneOfEach.replica_behind).message, 'v3 is not on this replica yet');
  });

  test('errors that are not embctl errors: connection loss 503, read-only 409, bad value 400, anything else 500', () => {
    const said = (e: unknown) => {
      const h = toHttpError(e);
      return `${h.status} ${h.code}`;
    };
    assert.equal(said(Object.assign(new Error('x'), { code: 'ECONNRESET' })), '503 database_unavailable');
    assert.equal(said(Object.assign(new Error('x'), { code: '25006' })), '409 read_only');
    assert.equal(said(Object.assign(new Error('x'), { code: '22P05' })), '400 invalid_value');
    assert.equal(said(new TypeError('oops')), '500 internal');
    const own = new HttpError(418, 'teapot', 'short and stout');
    assert.equal(toHttpError(own), own);
  });

  test('the narrower classes stay catchable as the broader ones', () => {
    assert.ok(new NotFoundError('x') instanceof InputError);
    assert.ok(new EncoderOutputError('x') instanceof EncoderError);
    const dims = new EncoderDimensionsError('768, expected 1024', 768, 1024);
    assert.ok(dims instanceof EncoderOutputError);
    assert.equal(dims.code, 'encoder_bad_output');
    // The deprecated name still catches the database being away.
    assert.ok(new UnavailableError('x') instanceof InternalError);
  });
});

describe('an unknown version through the library', () => {
  let db: TestDb;
  before(async () => {
    db = await freshDb();
    await ingestDocs(db, syntheticDocs(5));
    await register(db, { key: 'known', encoder: 'hash:words-32' });
  });
  after(async () => {
    await db?.destroy();
  });

  const isNotFound = (key: string) => (e: unknown) => {
    assert.ok(e instanceof NotFoundError, String(e));
    assert.equal(e.code, 'not_found');
    assert.match(e.message, new RegExp(`no version "${key}" \\(known: known\\)`));
    return true;
  };

  test('looking it up, searching it, activating it and rolling back to it are NotFoundError (not_found)', async () => {
    await assert.rejects(requireVersion(db.kysely, 'ghost'), isNotFound('ghost'));
    await assert.rejects(createSearcher(db).search({ query: 'x', version: 'ghost' }), isNotFound('ghost'));
    await assert.rejects(activate(db, 'ghost', { actor: 'tester' }), isNotFound('ghost'));
    await assert.rejects(rollback(db, { actor: 'tester', to: 'ghost' }), isNotFound('ghost'));
  });
});
