import { Command, Option } from 'commander';
import { registerVersion } from '../../versions/index.js';
import { getStatus } from '../../status/index.js';
import { requireVersion } from '../../versions/index.js';
import { requireSchema } from '../schema-guard.js';
import type { CliContext } from '../context.js';
import { intOption } from '../options.js';
import { MAX_CANARY_SAMPLE, lastCanaryEvent, readCanary } from '../../versions/index.js';
import { registerVerify } from './versions-verify.js';
import { registerDerive } from './versions-derive.js';
import { storageFigures, type StorageFigures } from '../../derive/index.js';

interface RegisterFlags {
  encoder: string;
  dimensions?: number;
  metric: 'cosine' | 'l2' | 'ip';
  index: 'hnsw' | 'ivfflat' | 'none';
  storage: 'vector' | 'halfvec';
  m?: number;
  efConstruction?: number;
  lists?: number;
  baseUrl?: string;
  pooling?: 'mean' | 'cls';
  normalize?: boolean;
  dtype?: string;
  allowRemote?: boolean;
  canary: boolean;
  canarySample?: number;
  matryoshka?: boolean;
}

export function registerVersions(program: Command, ctx: CliContext): void {
  const versions = program.command('versions').description('register, list and inspect encoder versions');

  versions
    .command('register <key>')
    .description('register an encoder version: probe it, check its dimensions, create its partition')
    .requiredOption('--encoder <spec>', 'openai:<model> | local:<folder or id> | hash[:<variant>]')
    .option(
      '--dimensions <n>',
      'dimensions the encoder must produce (sent to text-embedding-3 models)',
      intOption(1, 16000),
    )
    .addOption(new Option('--metric <metric>', 'distance metric').choices(['cosine', 'l2', 'ip']).default('cosine'))
    .addOption(
      new Option('--index <kind>', 'ANN index built after the backfill')
        .choices(['hnsw', 'ivfflat', 'none'])
        .default('hnsw'),
    )
    .addOption(
      new Option('--storage <type>', 'type the index is built on (halfvec: up to 4000 dims)')
        .choices(['vector', 'halfvec'])
        .default('vector'),
    )
    .option('--m <n>', 'HNSW: links per node (default 16)', intOption(2, 100))
    .option('--ef-construction <n>', 'HNSW: candidate list size while building (default 64)', intOption(4, 1000))
    .option('--lists <n>', 'IVFFlat: number of lists (default rows/1000)', intOption(1, 32768))
    .option('--base-url <url>', 'openai: an OpenAI-compatible server (default $OPENAI_BASE_URL)')
    .addOption(new Option('--pooling <mode>', 'local: pooling').choices(['mean', 'cls']))
    .option('--no-normalize', 'local: keep raw (unnormalised) vectors')
    .option('--dtype <dtype>', 'local: ONNX weights variant (fp32, q8, fp16, ...)')
    .option('--allow-remote', 'local: allow downloading a model id that is not in the local cache')
    .option(
      '--canary-sample <n>',
      `add this many live corpus texts to the encoder canary (default 0: the shipped set only; max ${MAX_CANARY_SAMPLE})`,
      intOption(0, MAX_CANARY_SAMPLE),
    )
    .option(
      '--matryoshka',
      'the model was trained so that a prefix of its output still works (text-embedding-3-* are known): versions derive --dimensions may truncate it',
    )
    .option('--no-canary', 'do not record the encoder canary (embctl versions verify <key> --record does it later)')
    .addHelpText(
      'after',
      `
Examples:
  $ embctl versions register v1 --encoder hash:words-256
  $ embctl versions register v2 --encoder openai:text-embedding-3-small --dimensions 1536
  $ embctl versions register big --encoder openai:text-embedding-3-large --storage halfvec
  $ embctl versions register mini --encoder local:./models/all-MiniLM-L6-v2
  $ OPENAI_BASE_URL=http://localhost:11434/v1 embctl versions register ollama --encoder openai:nomic-embed-text
  $ embctl versions register v3 --encoder openai:text-embedding-3-small --canary-sample 20

The encoder canary (the shipped texts of data/canary-v1.json, plus
--canary-sample corpus texts) is embedded and stored with the version, so
embctl versions verify <key> can tell later whether the model changed. If the
encoder cannot embed it, nothing is registered.`,
    )
    .action(async (key: string, f: RegisterFlags, cmd: Command) => {
      const db = await ctx.writableDb(`register ${key}`);
      await requireSchema(db);
      const normalizeGiven = cmd.getOptionValueSource('normalize') === 'cli';
      const row = await registerVersion(
        db,
        {
          key,
          encoder: f.encoder,
          dimensions: f.dimensions,
          metric: f.metric,
          index: f.index,
          storage: f.storage,
          m: f.m,
          efConstruction: f.efConstruction,
          lists: f.lists,
          canary: f.canary,
          canarySample: f.canarySample,
          matryoshka: f.matryoshka === true,
          settings: {
            baseURL: f.baseUrl,
            pooling: f.pooling,
            normalize: normalizeGiven ? f.normalize : undefined,
            dtype: f.dtype,
            allowRemote: f.allowRemote,
          },
        },
        ctx.encoderDeps(),
      );
      ctx.out.result(row);
      ctx.out.line(
        `registered ${row.version_key}: ${row.encoder_spec} (${row.encoder_name}@${row.encoder_revision.slice(0, 12)}), ${row.dimensions} dims, ${row.distance_metric}, ${row.index_kind === 'none' ? 'exact search' : `${row.index_kind} on ${row.index_storage}`}`,
      );
      if (!f.canary)
        ctx.out.line(`no encoder canary recorded (--no-canary): embctl versions verify ${row.version_key} --record`);
      ctx.out.line(`next: embctl backfill ${row.version_key}`);
    });

  versions
    .command('list')
    .description('every version with its state, coverage and index')
    .addHelpText('after', '\nExamples:\n  $ embctl versions list\n  $ embctl versions list --json')
    .action(async () => {
      const db = await ctx.db();
      await requireSchema(db);
      const s = await getStatus(db);
      ctx.out.result(s.versions);
      if (s.versions.length === 0) {
        ctx.out.line('no versions yet: embctl versions register <key> --encoder <spec>');
        return;
      }
      ctx.out.table(
        ['', 'KEY', 'STATE', 'ENCODER', 'DIMS', 'METRIC', 'INDEX', 'COVERAGE'],
        s.versions.map((v) => [
          v.active ? '*' : '',
          v.key,
          v.state,
          v.encoder,
          v.dimensions,
          v.metric,
          v.index === 'none' ? 'none (exact)' : `${v.index} (${v.indexState})`,
          `${v.embedded}/${v.live} (${(v.coverage * 100).toFixed(1)}%)`,
        ]),
      );
    });

  versions
    .command('show <key>')
    .description('one version in full, with its audit trail')
    .addHelpText('after', '\nExamples:\n  $ embctl versions show v2 --json')
    .action(async (key: string) => {
      const db = await ctx.db();
      await requireSchema(db);
      const v = await requireVersion(db.kysely, key);
      const s = (await getStatus(db)).versions.find((x) => x.key === key);
      const events = await db.kysely
        .selectFrom('version_events')
        .selectAll()
        .where('embedding_version_id', '=', v.id)
        .orderBy('id')
        .execute();
      const canary = await readCanary(db.kysely, v.id);
      const lastCheck = await lastCanaryEvent(db.kysely, v.id);
      const canaryInfo = canary
        ? {
            set: canary.setName,
            texts: canary.texts.length,
            reportedModel: canary.reportedModel,
            recordedAt: canary.createdAt,
            last: lastCheck ? { event: lastCheck.event, at: lastCheck.at } : null,
          }
        : null;
      const parent =
        v.parent_version_id === null
          ? undefined
          : await db.kysely
              .selectFrom('embedding_versions')
              .selectAll()
              .where('id', '=', v.parent_version_id)
              .executeTakeFirst();
      const storage = {
        version: await storageFigures(db.kysely, v),
        parent: parent ? await storageFigures(db.kysely, parent) : null,
      };
      ctx.out.result({ ...v, status: s, canary: canaryInfo, storage, events });
      const o = ctx.out;
      o.line(`${v.version_key}${v.active ? ' (active)' : ''}: ${v.state}`);
      o.line(`  encoder    ${v.encoder_spec} — ${v.encoder_name} revision ${v.encoder_revision}`);
      o.line(`  settings   ${JSON.stringify(v.encoder_settings)}`);
      o.line(
        `  vectors    ${v.dimensions} dims, ${v.distance_metric}; index ${v.index_kind}${v.index_kind === 'none' ? '' : ` on ${v.index_storage} ${JSON.stringify(v.index_params)} (${s?.indexState})`}`,
      );
      if (s) o.line(`  coverage   ${s.embedded}/${s.live} live chunks (${(s.coverage * 100).toFixed(1)}%)`);
      if (parent) o.line(`  derived    from ${parent.version_key}: ${JSON.stringify(v.derivation)}`);
      if (storage.version) o.line(`  storage    ${storageLine(storage.version, storage.parent)}`);
      o.line(
        canaryInfo
          ? `  canary     ${canaryInfo.texts} texts (${canaryInfo.set}), model ${canaryInfo.reportedModel}; last: ${canaryInfo.last?.event ?? 'none'}${canaryInfo.last ? ` at ${canaryInfo.last.at.toISOString()}` : ''}`
          : `  canary     none: embctl versions verify ${v.version_key} --record`,
      );
      o.line('  events');
      for (const e of events) {
        o.line(
          `    ${e.created_at.toISOString()}  ${e.event.padEnd(18)} ${e.actor}${e.forced ? ' (forced)' : ''}${e.reason ? ` — ${e.reason}` : ''}`,
        );
      }
    });

  registerVerify(versions, ctx);
  registerDerive(versions, ctx);
}

function storageLine(v: StorageFigures, parent: StorageFigures | null): string {
  const mb = (b: number) => `${(b / 1048576).toFixed(2)} MB`;
  const vs = (a: number, b: number | undefined) => (b ? ` (${(a / b).toFixed(2)}× ${parent!.version})` : '');
  return (
    `${v.bytesPerVector} bytes/vector${vs(v.bytesPerVector, parent?.bytesPerVector)}, ` +
    `heap ${mb(v.heapBytes)}${vs(v.heapBytes, parent?.heapBytes)}, index ${mb(v.indexBytes)}${vs(v.indexBytes, parent?.indexBytes)}`
  );
}
