import type { Command } from 'commander';
import { getStatus } from '../../status/index.js';
import { DEAD_RUNS_SCHEMA, markDeadRunsIfWritable } from '../../backfill/index.js';
import { schemaVersion } from '../../migrate/index.js';
import type { CliContext } from '../context.js';
import { warnPastEmbeddedCeiling } from '../ceiling-hint.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('show the backend, schema and pgvector versions, and every version with its coverage')
    .addHelpText(
      'after',
      `
Examples:
  $ embctl status
  $ embctl status --json | jq '.versions[] | select(.active)'`,
    )
    .action(async () => {
      const db = await ctx.db();
      // Backfill runs whose process died are closed first (their batches hold the true totals).
      if ((await schemaVersion(db)) >= DEAD_RUNS_SCHEMA) await markDeadRunsIfWritable(db.kysely);
      const s = await getStatus(db);
      ctx.out.result(s);
      const o = ctx.out;
      o.line(`backend    ${s.backend === 'pglite' ? 'embedded PGlite' : 'PostgreSQL server'} (${s.location})`);
      o.line(`server     PostgreSQL ${s.server}, pgvector ${s.pgvector ?? 'not installed'}`);
      o.line(
        `schema     version ${s.schema.version} of ${s.schema.latest}${s.schema.pending ? ` — ${s.schema.pending} pending: run embctl migrate` : ' (up to date)'}`,
      );
      if (s.cluster) {
        const workers = s.cluster.nodes.filter((n) => n.role === 'worker');
        o.line(
          `cluster    Citus: coordinator and ${workers.length} workers (${s.cluster.nodes.map((n) => `${n.host}:${n.port}${n.active ? '' : ' inactive'}`).join(', ')})`,
        );
      }
      if (s.schema.version === 0) return;
      o.line(`chunks     ${s.chunks.live} live, ${s.chunks.retired} retired`);
      await warnPastEmbeddedCeiling(ctx, db, s.chunks.live);
      if (s.versions.length === 0) {
        o.line('versions   none yet: embctl versions register <key> --encoder <spec>');
        return;
      }
      o.line('versions');
      o.table(
        ['', 'KEY', 'STATE', 'ENCODER', 'DIMS', 'METRIC', 'INDEX', 'COVERAGE', 'FAILED'],
        s.versions.map((v) => [
          v.active ? '*' : '',
          v.key,
          v.state,
          v.encoder,
          v.dimensions,
          v.metric,
          v.index === 'none' ? 'none' : `${v.index} (${v.indexState})`,
          `${v.embedded}/${v.live} (${(v.coverage * 100).toFixed(1)}%)`,
          v.failedBatches ? `${v.failedBatches} batches` : '',
        ]),
      );
      for (const v of s.versions) {
        if (v.shards)
          o.line(
            `shards     ${v.key}: ${v.shards.shards} shards on ${v.shards.nodes} nodes, ${(v.shards.bytes / 1048576).toFixed(1)} MB`,
          );
      }
      for (const v of s.versions) {
        if (!v.batchApi) continue;
        const open = v.batchApi.jobs.filter((j) => j.status !== 'collected');
        const by = new Map<string, number>();
        for (const j of v.batchApi.jobs) by.set(j.status, (by.get(j.status) ?? 0) + 1);
        o.line(
          `batch-api  ${v.key}: ${v.batchApi.jobs.length} batches (${[...by].map(([k, n]) => `${n} ${k}`).join(', ')})${v.batchApi.setAside ? `; ${v.batchApi.setAside} texts set aside (embctl backfill ${v.key} embeds them online)` : ''}`,
        );
        for (const j of open)
          o.line(
            `           ${j.batchId ?? `job ${j.id}`}: ${j.status}, ${j.requests} requests, ${j.texts} texts${j.lastError ? ` — ${j.lastError}` : ''}`,
          );
      }
      for (const [i, j] of s.judges.entries())
        o.line(
          `${i === 0 ? 'judges    ' : '          '} ${j.judge}: ${j.graded} pairs graded${j.failed ? `, ${j.failed} not graded (embctl judge --retry-failed)` : ''}`,
        );
    });
}
