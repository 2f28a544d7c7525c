import type { Command } from 'commander';
import { sql } from 'kysely';
import { DEFAULT_CANARY_MINUTES, createService } from '../../serve/index.js';
import type { CliContext } from '../context.js';
import { intOption, numberOption } from '../options.js';
import { requireSchema } from '../schema-guard.js';
import type { Db } from '../../db/index.js';
import { NotFoundError, RefusedError } from '../../errors.js';
import { findVersion, listVersions, VERSION_KEY } from '../../versions/index.js';

interface ServeFlags {
  port: number;
  host: string;
  shadow: boolean;
  maxInFlight?: number;
  maxQueue?: number;
  queueWaitMs?: number;
  canaryMinutes: number;
}

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('HTTP search service: /v1/search, /v1/versions, activate/rollback (bearer token), /healthz, /metrics')
    .option('--port <n>', 'port (default 8080; 0 picks a free one)', intOption(0, 65535), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--no-shadow', 'do not mirror sampled queries to a shadowed candidate')
    .option(
      '--max-in-flight <n>',
      'searches and version reads that run at once (default: EMBCTL_POOL_SIZE - 2, at least 1)',
      intOption(1, 10_000),
    )
    .option(
      '--max-queue <n>',
      'requests that wait for a slot; beyond that a 503 with Retry-After (default: 4 × --max-in-flight)',
      intOption(0, 100_000),
    )
    .option(
      '--queue-wait-ms <ms>',
      'longest wait for a slot before a 503 with Retry-After (default 5000)',
      intOption(1, 600_000),
    )
    .option(
      '--canary-minutes <n>',
      `check the encoder canary of the serving version and the shadowed candidate at start and then every n minutes (0: never)`,
      numberOption(0, 1440),
      DEFAULT_CANARY_MINUTES,
    )
    .addHelpText(
      'after',
      `
The encoder canary: a moved canary (the provider changed the model behind the
name) is logged at error level, shown as embctl_encoder_canary_min_cosine
{version} on /metrics and recorded as canary_failed; the service keeps serving.

Examples:
  $ embctl serve --port 8080
  $ curl -s localhost:8080/v1/search -H 'content-type: application/json' -d '{"query":"return a damaged tent","k":5}'
  $ EMBCTL_SERVE_TOKEN=... embctl serve      # enables POST /v1/versions/<key>/activate and /v1/rollback
  $ EMBCTL_PIN_VERSION=v1 embctl serve       # emergency: serve v1 whatever the active flag says
  $ embctl serve --max-in-flight 8 --max-queue 32 --queue-wait-ms 2000   # overload: 503 + Retry-After beyond that`,
    )
    .action(async (f: ServeFlags) => {
      const db = await ctx.db();
      await requireSchema(db);
      const c = ctx.config;
      if (c.pinVersion !== undefined) await checkPin(db, c.pinVersion);
      const { rows } = await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(db.kysely);
      const replica = Boolean(rows[0]?.r);
      if (replica)
        ctx.logger.warn(
          'connected to a read replica: the active version is read per request, shadow logging is off, activate/rollback must go to the primary',
        );
      const service = createService(db, {
        logger: ctx.logger,
        actor: c.actorName,
        token: c.serveToken,
        pinVersion: c.pinVersion,
        shadow: f.shadow,
        replica,
        encoderDeps: ctx.encoderDeps(),
        poolSize: c.poolSize,
        admission: { limit: f.maxInFlight, queue: f.maxQueue, waitMs: f.queueWaitMs },
        canaryIntervalMs: Math.round(f.canaryMinutes * 60_000),
      });
      const addr = await service.listen(f.port, f.host);
      ctx.out.result({ listening: addr });
      ctx.out.line(
        `embctl serving on http://${addr.host}:${addr.port} (${db.backend}; admin endpoints ${c.serveToken ? 'enabled' : 'disabled: set EMBCTL_SERVE_TOKEN'})`,
      );
      ctx.logger.info({ ...addr, backend: db.backend, pinned: c.pinVersion ?? null }, 'serving');
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (sig: NodeJS.Signals) => {
          if (stopping) process.exit(130);
          stopping = true;
          process.stderr.write(`embctl: ${sig}: draining in-flight requests (send again to exit at once)\n`);
          service.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}

/** A pin that names no servable version would make every search fail while the process looks alive: refuse to start. */
async function checkPin(db: Db, pin: string): Promise<void> {
  const v = VERSION_KEY.test(pin) ? await findVersion(db.kysely, pin) : undefined;
  if (v && v.state !== 'retired') return;
  const servable = (await listVersions(db.kysely)).filter((x) => x.state !== 'retired').map((x) => x.version_key);
  const known = servable.length ? `versions that can serve: ${servable.join(', ')}` : 'no version can serve yet';
  if (v)
    throw new RefusedError(
      `EMBCTL_PIN_VERSION=${pin} names a retired version (its vectors were dropped); ${known}: pin one of them or unset EMBCTL_PIN_VERSION`,
    );
  throw new NotFoundError(
    `EMBCTL_PIN_VERSION=${JSON.stringify(pin).slice(1, -1).slice(0, 80)} names no version; ${known}: fix the pin or unset EMBCTL_PIN_VERSION`,
  );
}
