import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, type TestDb } from './support/db.js';
import { isReadOnlyError, refuseStandby, standbyWriteRefusal } from '../src/cli/standby-guard.js';
import { exitCodeOf } from '../src/cli/exit-codes.js';
import { replayLag } from '../src/db/index.js';
import { RefusedError } from '../src/errors.js';

// The CLI's refusal of writes on a hot standby, in parts that need no
// standby (test/replica.test.ts proves it against a real one, server pass).

let db: TestDb;
before(async () => {
  db = await freshDb();
});
after(async () => {
  await db?.close();
});

describe('writes on a hot standby (the parts that need no standby)', () => {
  test('the refusal names the primary when it is known, else says "the primary"; exit 1', () => {
    const known = standbyWriteRefusal({ standby: true, primary: 'db1.internal:5433' }, 'activate v2');
    assert.ok(known instanceof RefusedError);
    assert.equal(exitCodeOf(known), 1);
    assert.equal(
      known.message,
      'cannot activate v2: the database is a hot standby (read-only replica); point DATABASE_URL at the primary at db1.internal:5433 and run it there',
    );
    const unknown = standbyWriteRefusal({ standby: true, primary: null }, 'roll back');
    assert.match(unknown.message, /point DATABASE_URL at the primary and run it there$/);
    assert.doesNotMatch(unknown.message, /\n/, 'one line');
  });

  test('read-only transaction errors are recognized, also wrapped; others are not', () => {
    const ro = Object.assign(new Error('cannot execute UPDATE in a read-only transaction'), { code: '25006' });
    assert.equal(isReadOnlyError(ro), true);
    assert.equal(isReadOnlyError(new Error('wrapped', { cause: ro })), true);
    assert.equal(isReadOnlyError(Object.assign(new Error('x'), { code: '23505' })), false);
    assert.equal(isReadOnlyError(undefined), false);
  });

  test('on a primary (or PGlite) nothing is refused and there is no replay lag', async () => {
    await refuseStandby(db, 'activate v2');
    assert.deepEqual(await replayLag(db.kysely), { standby: false, behind: false, bytes: 0 });
  });
});
