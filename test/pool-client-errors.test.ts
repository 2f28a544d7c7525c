import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { SERVER_ONLY, freshTarget } from './support/db.js';
import { startFatalProxy } from './support/fatal-proxy.js';
import { openDatabase } from '../src/db/open.js';
import { UnavailableError } from '../src/errors.js';
import { silentLogger } from '../src/log/logger.js';

// A pooled connection can die in the very tick in which it finishes
// connecting: a server going down sends the startup's ReadyForQuery and a
// FATAL together. pg then emits 'error' on a client that nobody listens to
// yet (the pool has handed it out; its user adds a listener a microtask
// later), and an unhandled 'error' event ends the process. That killed
// `embctl serve` in CI while PostgreSQL stopped under it.

test(
  'a pooled connection that dies as it is handed out is a lost connection, not a crash; the next query gets a fresh one',
  { skip: SERVER_ONLY },
  async () => {
    const target = await freshTarget();
    const proxy = await startFatalProxy(target.url!);
    const db = await openDatabase({
      databaseUrl: proxy.url,
      homeDir: target.homeDir,
      logger: silentLogger(),
      poolSize: 2,
    });
    try {
      assert.equal((await sql<{ one: number }>`select 1 as one`.execute(db.kysely)).rows[0]!.one, 1);
      proxy.arm(true);
      proxy.dropAll(); // the pool's idle clients go: the next query needs a new connection
      for (let i = 0; db.pool!.totalCount > 0; i++) {
        assert.ok(i < 200, 'the pool dropped its dead idle clients');
        await new Promise((r) => setTimeout(r, 10));
      }
      await assert.rejects(
        () => sql`select 1`.execute(db.kysely),
        (e: unknown) => e instanceof UnavailableError && /connection was lost/.test(e.message),
      );
      assert.ok(proxy.injected() >= 1, 'the proxy ended a connection with the FATAL');
      proxy.arm(false);
      assert.equal((await sql<{ one: number }>`select 1 as one`.execute(db.kysely)).rows[0]!.one, 1);
    } finally {
      await db.close();
      await proxy.close();
      await target.destroy();
    }
  },
);
