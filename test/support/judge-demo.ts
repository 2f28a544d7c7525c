/**
 * A small demo-like target for the `embctl judge` tests: the demo corpus
 * (examples/demo/corpus.jsonl), v1 (hash:words-256, active) and v2
 * (hash:mixed-1536) backfilled without an ANN index (so a search is exact),
 * and a judged set holding every `every`-th query of evals/demo.judged.jsonl.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshTarget, type TestDbTarget } from './db.js';
import { targetEnv } from './cli.js';
import { fillVersion, register } from './fill-version.js';
import { openDatabase, type Db } from '../../src/db/open.js';
import { migrate } from '../../src/migrate/runner.js';
import { ingest } from '../../src/ingest/index.js';
import { silentLogger } from '../../src/log/logger.js';

export const DEMO_CORPUS = fileURLToPath(new URL('../../examples/demo/corpus.jsonl', import.meta.url));
export const DEMO_JUDGED = fileURLToPath(new URL('../../evals/demo.judged.jsonl', import.meta.url));
/** The tiny cross-encoder, as a spec relative to the repository (the CLI's working directory in tests). */
export const CE_SPEC = 'cross-encoder:test/fixtures/tiny-cross-encoder';

export interface JudgeDemo {
  target: TestDbTarget;
  env: NodeJS.ProcessEnv;
  /** Scratch folder for files (judged set, labels, gates); removed by close(). */
  dir: string;
  /** The judged subset. */
  judged: string;
  open(): Promise<Db>;
  close(): Promise<void>;
}

export async function judgeDemo(o: { every?: number; offset?: number } = {}): Promise<JudgeDemo> {
  const target = await freshTarget();
  const dir = mkdtempSync(join(tmpdir(), 'embctl-judge-'));
  const [header, ...queries] = readFileSync(DEMO_JUDGED, 'utf8').split('\n').filter(Boolean);
  const every = o.every ?? 10;
  const kept = queries.filter((_, i) => i % every === (o.offset ?? 0));
  const judged = join(dir, 'subset.judged.jsonl');
  writeFileSync(judged, [header, ...kept].join('\n') + '\n');
  const open = () =>
    openDatabase({ databaseUrl: target.url, homeDir: target.homeDir, logger: silentLogger(), poolSize: 4 });
  const db = await open();
  try {
    await migrate(db, { logger: silentLogger() });
    await ingest(db, [DEMO_CORPUS], {}, { logger: silentLogger() });
    for (const [key, encoder] of [
      ['v1', 'hash:words-256'],
      ['v2', 'hash:mixed-1536'],
    ] as const) {
      await register(db, { key, encoder, index: 'none' });
      await fillVersion(db, key, { index: false });
    }
    await db.kysely.updateTable('embedding_versions').set({ active: true }).where('version_key', '=', 'v1').execute();
  } finally {
    await db.close();
  }
  return {
    target,
    env: { ...targetEnv(target), EMBCTL_ACTOR: 'judge-tester' },
    dir,
    judged,
    open,
    async close() {
      rmSync(dir, { recursive: true, force: true });
      await target.destroy();
    },
  };
}
