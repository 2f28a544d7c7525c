import { Command, InvalidArgumentError } from 'commander';
import { currentShadow, startShadow, stopShadow } from '../../shadow/index.js';
import { parseSince } from '../../shadow/index.js';
import { summarizeShadow, type AgreementSummary, type ShadowSummary } from '../../shadow/index.js';
import { requireSchema } from '../schema-guard.js';
import type { CliContext } from '../context.js';
import { intOption } from '../options.js';

interface StartFlags {
  sample: number;
  k: number;
  storeText?: boolean;
  storeQueryText?: boolean;
  force?: boolean;
  reason?: string;
}
interface ReportFlags {
  since: string;
  version?: string;
  worst: number;
}

export function registerShadow(program: Command, ctx: CliContext): void {
  const shadow = program
    .command('shadow')
    .description('mirror a sample of live queries to a candidate version and measure agreement');

  shadow
    .command('start <key>')
    .description('shadow a candidate version (replaces the one shadowed now, if any)')
    .requiredOption('--sample <rate>', 'fraction of live queries mirrored, above 0 and at most 1', sampleRate)
    .option('--k <n>', 'top-K compared', intOption(1, 1000), 10)
    .option('--store-text', 'keep the raw query text (default: only its sha256); embctl judge --from-shadow needs it')
    .option('--store-query-text', 'the same as --store-text')
    .option('--force', 'start even when the candidate has no vectors yet (logged)')
    .option('--reason <text>', 'why, for the audit trail')
    .addHelpText(
      'after',
      `
Examples:
  $ embctl shadow start v2 --sample 0.1
  $ embctl shadow start v2 --sample 0.05 --k 20 --store-text`,
    )
    .action(async (key: string, f: StartFlags) => {
      const db = await ctx.writableDb(`start shadowing ${key}`);
      await requireSchema(db);
      const r = await startShadow(
        db,
        {
          key,
          sampleRate: f.sample,
          k: f.k,
          storeQueryText: Boolean(f.storeText || f.storeQueryText),
          force: f.force,
          reason: f.reason,
        },
        { actor: ctx.config.actorName },
      );
      if (ctx.out.json) for (const w of r.warnings) ctx.logger.warn(w);
      ctx.out.result(r);
      if (r.replaced) ctx.out.line(`stopped shadowing ${r.replaced}`);
      ctx.out.line(
        `shadowing ${r.target.versionKey}: ${fmtPct(r.target.sampleRate)} of queries, top-${r.target.k}${r.target.storeQueryText ? ', query text stored' : ''}`,
      );
      for (const w of r.warnings) ctx.out.line(`warning: ${w}`);
      ctx.out.line('serving processes pick this up within a few seconds; then: embctl shadow report');
    });

  shadow
    .command('stop [key]')
    .description('stop shadowing (with a key: only if that version is the one shadowed)')
    .option('--reason <text>', 'why, for the audit trail')
    .addHelpText('after', '\nExamples:\n  $ embctl shadow stop\n  $ embctl shadow stop v2 --reason "enough data"')
    .action(async (key: string | undefined, f: { reason?: string }) => {
      const db = await ctx.writableDb('stop shadowing');
      await requireSchema(db);
      const stopped = await stopShadow(db, { key, reason: f.reason }, { actor: ctx.config.actorName });
      ctx.out.result({ stopped });
      ctx.out.line(stopped ? `stopped shadowing ${stopped.versionKey}` : 'nothing was being shadowed');
    });

  shadow
    .command('status')
    .description('the candidate shadowed now, if any')
    .addHelpText('after', '\nExamples:\n  $ embctl shadow status --json')
    .action(async () => {
      const db = await ctx.db();
      await requireSchema(db);
      const t = await currentShadow(db.kysely);
      ctx.out.result({ shadow: t });
      ctx.out.line(
        t
          ? `shadowing ${t.versionKey} since ${t.startedAt.toISOString()}: ${fmtPct(t.sampleRate)} of queries, top-${t.k}${t.storeQueryText ? ', query text stored' : ''}`
          : 'nothing is being shadowed: embctl shadow start <key> --sample 0.1',
      );
    });

  shadow
    .command('report')
    .description('agreement of the candidate with the primary: overlap@K, RBO, latency, worst queries')
    .option('--since <duration>', 'window: 30m, 24h, 7d (or an ISO date)', '24h')
    .option('--version <key>', 'candidate (default: the one shadowed now, else the last one logged)')
    .option('--worst <n>', 'how many low-overlap queries to list', intOption(0, 1000), 10)
    .addHelpText(
      'after',
      `
Examples:
  $ embctl shadow report
  $ embctl shadow report --since 7d --version v2 --json`,
    )
    .action(async (f: ReportFlags) => {
      const since = parseSince(f.since);
      const db = await ctx.db();
      await requireSchema(db);
      const r = await summarizeShadow(db, { candidate: f.version, since, worst: f.worst });
      ctx.out.result(r);
      if (!ctx.out.json) printReport(ctx, r, f.since);
    });
}

function printReport(ctx: CliContext, r: ShadowSummary, window: string): void {
  const o = ctx.out;
  if (!r.candidate) {
    o.line('no shadow traffic yet: embctl shadow start <key> --sample 0.1');
    return;
  }
  o.line(
    `candidate ${r.candidate.key}${r.config ? ` (shadowed now: ${fmtPct(r.config.sampleRate)}, top-${r.config.k})` : ' (not shadowed now)'}` +
      ` vs ${r.primaries.join(', ') || 'no primary'}, last ${window} (since ${r.since.toISOString()})`,
  );
  if (r.overall.count === 0) {
    o.line('no shadowed queries in this window');
  } else {
    const rows = [...r.segments.map((s) => row(s.segment ?? '(none)', s)), row('overall', r.overall)];
    o.table(['SEGMENT', 'QUERIES', 'OVERLAP MEAN', 'OVERLAP P10', 'RBO MEAN', 'RBO P10', 'Δ MS P50', 'Δ MS P95'], rows);
  }
  o.line(`dropped: ${r.dropped} (queue full or shutdown), failed: ${r.failed}`);
  if (r.lowestOverlap.length) {
    o.line();
    o.line('lowest overlap (for a human to look at):');
    o.table(
      ['OVERLAP', 'RBO', 'TIMES', 'SEGMENT', 'QUERY'],
      r.lowestOverlap.map((q) => [
        q.overlap.toFixed(2),
        q.rbo.toFixed(3),
        q.times,
        q.segment ?? '',
        q.text !== null ? clip(q.text, 60) : `sha256:${q.sha256.slice(0, 16)}`,
      ]),
    );
  }
}

function row(label: string, s: AgreementSummary): (string | number)[] {
  return [
    label,
    s.count,
    fmt(s.overlap.mean, 3),
    fmt(s.overlap.p10, 3),
    fmt(s.rbo.mean, 3),
    fmt(s.rbo.p10, 3),
    fmt(s.latencyDeltaMs.p50, 1, true),
    fmt(s.latencyDeltaMs.p95, 1, true),
  ];
}

function fmt(v: number | null, digits: number, signed = false): string {
  if (v === null) return '-';
  return (signed && v > 0 ? '+' : '') + v.toFixed(digits);
}

function fmtPct(rate: number): string {
  return `${Number((rate * 100).toPrecision(4))}%`;
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? one.slice(0, n - 1) + '…' : one;
}

function sampleRate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1) {
    throw new InvalidArgumentError(
      `expected a fraction above 0 and at most 1 (e.g. 0.1), got "${value}" (embctl shadow stop turns shadowing off)`,
    );
  }
  return n;
}
