import { Command, Option } from 'commander';
import { deriveVersion, checkDeriveFlags, MAX_RERANK, type DeriveInput } from '../../derive/index.js';
import { withSignals } from '../backfill-output.js';
import type { CliContext } from '../context.js';
import { intOption } from '../options.js';
import { createProgress } from '../progress.js';
import { requireSchema } from '../schema-guard.js';

/** The command's flags are the library's input, less the key (an argument). */
type DeriveFlags = Omit<DeriveInput, 'key'>;

/** `embctl versions derive <new> --from <key>`: a cheaper version computed from a stored one, no encoder calls. */
export function registerDerive(versions: Command, ctx: CliContext): void {
  versions
    .command('derive <key>')
    .description("derive a cheaper version from a stored one's vectors, inside the database (no encoder calls)")
    .requiredOption('--from <key>', 'the stored, fully backfilled version to derive from')
    .option('--dimensions <n>', 'keep the first N dimensions, renormalised (Matryoshka models)', intOption(0, 16000))
    .addOption(
      new Option('--storage <type>', 'vector | halfvec (half precision) | bit (binary quantization, Hamming)').choices([
        'vector',
        'halfvec',
        'bit',
      ]),
    )
    .option(
      '--rerank <k>',
      `take the top K by the derived index, re-order them by exact distance on the parent's vectors (max ${MAX_RERANK})`,
      intOption(0, MAX_RERANK),
    )
    .addOption(new Option('--index <kind>', 'ANN index (default hnsw)').choices(['hnsw', 'ivfflat', 'none']))
    .addOption(
      new Option('--metric <metric>', "results' metric (default: the parent's; bit: hamming)").choices([
        'cosine',
        'l2',
        'ip',
        'hamming',
      ]),
    )
    .option('--force', 'truncate (--dimensions) an encoder that does not declare Matryoshka training')
    .option('--batch-size <n>', 'parent vectors per INSERT … SELECT (default 2000)', intOption(1, 1_000_000))
    .addHelpText(
      'after',
      `
The new version's vectors are computed from the parent's stored vectors by
SQL (l2_normalize(subvector(..)), ::halfvec, binary_quantize(..)::bit), in
batches, each committed on its own: an interrupted derive continues where it
stopped when run again with the same flags. Searches embed the query with the
parent's encoder and apply the same transform. The version then goes through
evaluate --gate, shadow, activate and rollback like any other; sync keeps it
current. Truncation needs an encoder that declares Matryoshka training
(text-embedding-3-*, or versions register --matryoshka), or --force.

Examples:
  $ embctl versions derive v2-256 --from v2 --dimensions 256
  $ embctl versions derive v2-half --from v2 --storage halfvec
  $ embctl versions derive v2-bit --from v2 --storage bit --rerank 100
  $ embctl versions derive h-512 --from h --dimensions 512 --force`,
    )
    .action(async (key: string, f: DeriveFlags) => {
      if (f.dimensions === 0) checkDeriveFlags({ key, from: f.from, dimensions: 0 });
      if (f.rerank === 0) checkDeriveFlags({ key, from: f.from, rerank: 0 });
      const input: DeriveInput = { key, ...f };
      checkDeriveFlags(input);
      const db = await ctx.writableDb(`derive ${key}`);
      await requireSchema(db);
      const progress = createProgress(ctx.logger, { quiet: Boolean(ctx.globals.json) });
      const started = Date.now();
      const r = await withSignals(
        (signal) =>
          deriveVersion(db, input, {
            actor: ctx.config.actorName,
            logger: ctx.logger,
            signal,
            onProgress: (p) => {
              const rate = p.written / Math.max(0.001, (Date.now() - started) / 1000);
              progress.update(
                `derive ${p.version}: ${p.done}/${p.total} vectors (${Math.round(rate)}/s, batch ${p.batches})`,
                { version: p.version, done: p.done, total: p.total },
              );
            },
          }),
        () => progress.done(),
      );
      progress.done();
      ctx.out.result(r);
      for (const n of r.notes) ctx.out.line(`note: ${n}`);
      ctx.out.line(
        `${r.registered ? 'derived' : 'resumed'} ${r.version} from ${r.parent}: ${r.vectors} vectors (${r.written} written now, no encoder calls), ${r.index?.built ? 'index built, ' : ''}${r.state} in ${r.seconds}s`,
      );
      if (r.state === 'ready') ctx.out.line(`next: embctl evaluate --version ${r.version} --gate`);
    });
}
