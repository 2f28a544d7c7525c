import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Db } from '../../src/db/open.js';
import { copyBinaryWriter } from '../../src/partitions/embedding-writer.js';
import { ingest } from '../../src/ingest/index.js';
import { silentLogger } from '../../src/log/logger.js';
import { encoderForVersion } from '../../src/versions/encoder-for-version.js';
import { annIndexStatement, partitionTable } from '../../src/partitions/partition.js';
import { registerVersion, type RegisterInput } from '../../src/versions/register.js';
import { requireVersion, type VersionRow } from '../../src/versions/store.js';

/**
 * Test stand-in for the backfill (src/backfill/ is written separately):
 * ingest documents, register versions, and fill a version's partition
 * directly with its own encoder, then index it and mark it ready.
 */

export interface TestDoc {
  id: string;
  text: string;
  metadata?: Record<string, unknown>;
}

export async function ingestDocs(db: Db, docs: readonly TestDoc[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'embctl-docs-'));
  try {
    const file = join(dir, 'docs.jsonl');
    writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    await ingest(db, [file], { format: 'jsonl' }, { logger: silentLogger() });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function register(db: Db, input: RegisterInput): Promise<VersionRow> {
  return registerVersion(db, input, { actor: 'tester', logger: silentLogger(), env: {} });
}

export interface FillOptions {
  /** Build the ANN index (default true). */
  index?: boolean;
  /** Embed only the chunks this keeps (default all live chunks). */
  only?: (chunkId: number, i: number) => boolean;
  /** State to set afterwards (default 'ready'). */
  state?: 'registered' | 'backfilling' | 'ready';
}

/** Embed the live chunks that have no vector yet for `key`, write them, index, ANALYZE. */
export async function fillVersion(db: Db, key: string, opts: FillOptions = {}): Promise<VersionRow> {
  const v = await requireVersion(db.kysely, key);
  const table = partitionTable(v.id);
  const { rows } = await sql<{ id: number; content: string }>`
    select c.id, c.content from document_chunks c
    where c.retired_at is null and not exists (select 1 from ${sql.raw(table)} e where e.chunk_id = c.id)
    order by c.id`.execute(db.kysely);
  const chosen = rows
    .map((r) => ({ id: Number(r.id), content: r.content }))
    .filter((r, i) => (opts.only ? opts.only(r.id, i) : true));
  const encoder = await encoderForVersion(v, {});
  try {
    for (let i = 0; i < chosen.length; i += 256) {
      const slice = chosen.slice(i, i + 256);
      const vectors = await encoder.embed(slice.map((r) => r.content));
      await db.kysely.transaction().execute((trx) =>
        copyBinaryWriter.write(
          trx,
          v,
          slice.map((r, j) => ({ chunkId: r.id, vector: vectors[j]! })),
        ),
      );
    }
  } finally {
    await encoder.close?.();
  }
  if (opts.index !== false) await buildIndex(db, v);
  await sql.raw(`ANALYZE ${table}`).execute(db.kysely);
  await sql`ANALYZE document_chunks`.execute(db.kysely); // PGlite has no autovacuum
  await db.kysely
    .updateTable('embedding_versions')
    .set({ state: opts.state ?? 'ready' })
    .where('id', '=', v.id)
    .execute();
  return requireVersion(db.kysely, key);
}

export async function buildIndex(db: Db, v: VersionRow): Promise<void> {
  const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.raw(partitionTable(v.id))}`.execute(
    db.kysely,
  );
  const stmt = annIndexStatement(v, { rowCount: Number(rows[0]?.n ?? 0) });
  if (stmt) await sql.raw(stmt).execute(db.kysely);
}

/** Record a gated evaluation run for a version (what `evaluate --gate` writes). */
export async function recordGate(db: Db, key: string, passed: boolean): Promise<void> {
  const v = await requireVersion(db.kysely, key);
  await db.kysely
    .insertInto('evaluation_runs')
    .values({
      embedding_version_id: v.id,
      judged_set_name: 'test',
      judged_set_sha256: '0'.repeat(64),
      gated: true,
      passed,
      metrics: JSON.stringify({}),
      per_query: JSON.stringify([]),
      gates: JSON.stringify([]),
      actor: 'tester',
    })
    .execute();
}

/** A small synthetic corpus: `n` documents over a few topics, with metadata. */
export function syntheticDocs(n: number): TestDoc[] {
  const topics = [
    ['database', 'postgres index query planner table vacuum replication'],
    ['ocean', 'whale coral reef tide current salt plankton'],
    ['space', 'planet orbit rocket galaxy telescope star comet'],
    ['cooking', 'recipe oven flour butter garlic simmer spice'],
    ['music', 'guitar melody rhythm chord piano tempo concert'],
  ] as const;
  const docs: TestDoc[] = [];
  for (let i = 0; i < n; i++) {
    const [topic, words] = topics[i % topics.length]!;
    const w = words.split(' ');
    const pick = (j: number) => w[(i * 7 + j * 3) % w.length];
    docs.push({
      id: `doc-${i}`,
      text: `${topic} note ${i}: ${pick(0)} ${pick(1)} and ${pick(2)} with ${pick(3)}; ${pick(4)} ${pick(5)} item${i}`,
      metadata: { topic, bucket: String(i % 50), lang: i % 2 ? 'en' : 'fr' },
    });
  }
  return docs;
}
