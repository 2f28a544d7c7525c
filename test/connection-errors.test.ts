import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionLost, isConnectionLoss } from '../src/db/connection-errors.js';
import { UnavailableError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-codes.js';

// Which driver errors mean "the database went away" (503, exit 1 with the
// rerun line) and which are a statement's own failure. Pure: both passes.

test('connection loss is told apart from a refused statement', () => {
  const lost = [
    { code: '57P01', message: 'terminating connection due to administrator command' },
    { code: '57P02' },
    { code: '57P03' },
    { code: '08006' },
    { code: '08001' },
    { code: '53300' },
    { code: 'ECONNREFUSED', message: '' },
    { code: 'ECONNRESET' },
    { code: 'EPIPE' },
    new Error('Connection terminated unexpectedly'),
    new Error('Client has encountered a connection error and is not queryable'),
    new Error('timeout exceeded when trying to connect'),
    new UnavailableError('x'),
  ];
  for (const e of lost) assert.equal(isConnectionLoss(e), true, JSON.stringify(e) ?? String(e));
  const not = [
    { code: '23505' },
    { code: '42P01' },
    { code: '25006' },
    { code: '22021' },
    new Error('syntax error'),
    null,
    'x',
    undefined,
  ];
  for (const e of not) assert.equal(isConnectionLoss(e), false, JSON.stringify(e) ?? String(e));
});

test('the one line names the cause and what to do, without secrets', () => {
  assert.equal(
    connectionLost({ code: '57P01', message: 'terminating connection due to administrator command' }).message,
    'the database connection was lost (57P01: terminating connection due to administrator command); run the same command again to resume',
  );
  assert.equal(
    connectionLost(Object.assign(new Error(''), { code: 'ECONNREFUSED' })).message,
    'the database connection was lost (ECONNREFUSED); run the same command again to resume',
  );
  const e = connectionLost(new Error('could not reach postgresql://app:hunter2secret@db.internal/x\nsecond line'));
  assert.doesNotMatch(e.message, /hunter2secret|second line/);
  assert.ok(e instanceof UnavailableError && exitCodeOf(e) === 1 && e.retryAfterSeconds > 0);
});
