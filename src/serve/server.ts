import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { scrubSecrets, type Logger } from '../log/index.js';
import { createSearcher, type Searcher } from '../search/index.js';
import type { EncoderDeps } from '../encoders/index.js';
import { createShadower, type Shadower } from '../shadow/index.js';
import { Admission, admissionOptions, type AdmissionOptions, type Release } from './admission.js';
import { CanaryMonitor } from './canary-monitor.js';
import { HttpError, sendError, sendJson } from './http-util.js';
import { ServiceMetrics, admissionMetricsText, shadowMetricsText } from './prometheus.js';
import { activateRoute, rollbackRoute, searchRoute, toHttpError, versionsRoute, type RouteContext } from './routes.js';
import { matchRoute } from './router.js';
import { standbyInfo, type StandbyInfo } from './standby.js';

/**
 * Idle keep-alive connections stay open this long, and every response
 * advertises a shorter idle time (`Keep-Alive: timeout=5`). A client that
 * reads the hint (undici and fetch drop an idle connection shortly before
 * it) is done with the connection long before the server closes it, so it
 * never sends a request on a connection the server is closing at that
 * instant. node's default, 5 s on both sides, raced on a loaded machine:
 * a request on a reused connection met "other side closed". Longer than
 * the 60 s idle timeout of common proxies and load balancers, for the same reason.
 */
export const KEEP_ALIVE_IDLE_MS = 65_000;
export const KEEP_ALIVE_HINT = 'timeout=5';

export interface ServiceOptions {
  logger: Logger;
  actor: string;
  /** Bearer token for activate/rollback; without one those endpoints answer 403. */
  token?: string;
  /** EMBCTL_PIN_VERSION: serve this version whatever the active flag says. */
  pinVersion?: string;
  encoderDeps?: EncoderDeps;
  /** Largest request body (default 64 KiB). */
  bodyLimit?: number;
  /** Mirror sampled queries to the shadowed candidate (default true). */
  shadow?: boolean;
  /**
   * The database is a read replica (hot standby): LISTEN is not possible
   * there, so the active version is read per request (one indexed select),
   * and shadow logging, which writes, is off.
   */
  replica?: boolean;
  shadowQueueSize?: number;
  /** The database pool's size (EMBCTL_POOL_SIZE, default 10): the admission defaults derive from it. */
  poolSize?: number;
  /**
   * Admission control of searches and /v1/versions (see admission.ts): how
   * many run at once, how many wait, and for how long; beyond that a 503 with
   * Retry-After. Defaults: `admissionOptions(poolSize)`.
   */
  admission?: Partial<AdmissionOptions>;
  /**
   * The encoder canary of the serving version and the shadowed candidate:
   * checked at start and then every this many ms (canary-monitor.ts). 0 or
   * unset: off (`embctl serve` passes --canary-minutes, default 15).
   */
  canaryIntervalMs?: number;
  /** Test seam: wrap the searcher (e.g. hold searches until a test releases them). */
  wrapSearcher?: (s: Searcher) => Searcher;
  /** Test seam: whether the database is a hot standby (default: ask it). */
  standbyInfo?: () => Promise<StandbyInfo>;
}

export interface Service {
  readonly server: Server;
  readonly searcher: Searcher;
  readonly shadower: Shadower | undefined;
  readonly metrics: ServiceMetrics;
  readonly admission: Admission;
  readonly canary: CanaryMonitor;
  listen(port: number, host?: string): Promise<{ port: number; host: string }>;
  /** Requests being handled now. */
  inFlight(): number;
  /** Stop accepting, drain in-flight requests (up to `timeoutMs`), then close shadowing and search. Safe twice. */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * `embctl serve`: search, versions, activate/rollback (bearer token),
 * health and Prometheus metrics over HTTP. Each search resolves its
 * version once; shadowing runs after the response is sent.
 */
export function createService(db: Db, opts: ServiceOptions): Service {
  const logger = opts.logger.child({ component: 'http' });
  // On a primary server the active version is cached and LISTEN/NOTIFY drops
  // the cache on a flip; on PGlite (one process) and on replicas it is read per request.
  const made = createSearcher(db, {
    logger: opts.logger,
    pinVersion: opts.pinVersion,
    encoderDeps: opts.encoderDeps,
    watchActive: db.backend === 'postgres' && !opts.replica,
  });
  const searcher = opts.wrapSearcher ? opts.wrapSearcher(made) : made;
  // Requests that need the pool pass here; /healthz, /metrics and the admin routes do not wait behind them.
  const admission = new Admission(admissionOptions(opts.poolSize ?? 10, opts.admission));
  let inFlight = 0; // requests being handled (shadowing waits for 0)
  const shadower =
    opts.shadow === false || opts.replica
      ? undefined
      : createShadower(db, {
          logger: opts.logger,
          queueSize: opts.shadowQueueSize,
          workers: 1,
          // Candidate searches run when no primary request is being handled.
          busy: () => inFlight > 0,
          search: async (versionKey, query, k, _signal, params) => {
            const r = await searcher.search({ query, version: versionKey, k, ...(params as object) });
            return { ids: r.hits.map((h) => h.chunkId), ms: r.ms };
          },
        });
  const metrics = new ServiceMetrics();
  const canary = new CanaryMonitor({
    db,
    logger: opts.logger,
    actor: opts.actor,
    encoderOf: (v) => searcher.encoderOf(v),
    intervalMs: opts.canaryIntervalMs ?? 0,
    replica: opts.replica,
    serving: async () => (await searcher.servingVersion().catch(() => undefined))?.row,
  });
  canary.start();
  const ctx: RouteContext = {
    db,
    searcher,
    shadower,
    metrics,
    token: opts.token,
    actor: opts.actor,
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    standby: opts.standbyInfo ?? (() => standbyInfo(db.kysely)),
  };
  let draining = false;
  let idle: (() => void) | undefined;

  const server = createHttpServer(async (req, res) => {
    const t0 = performance.now();
    inFlight++;
    res.setHeader('keep-alive', KEEP_ALIVE_HINT);
    let route = 'unknown';
    let version: string | undefined;
    let release: Release | undefined;
    try {
      const match = matchRoute(req.url);
      if (!match)
        throw new HttpError(404, 'not_found', `no route ${String(req.method).slice(0, 20)} ${pathOf(req.url)}`);
      route = match.route;
      const method = req.method ?? '';
      if (!match.allow.includes(method)) {
        const allow = [...match.allow, 'OPTIONS'].join(', ');
        if (method === 'OPTIONS') {
          res.writeHead(204, { allow });
          res.end();
          return;
        }
        throw new HttpError(
          405,
          'method_not_allowed',
          `${pathOf(req.url)} answers ${match.allow.join(', ')}, not ${method.slice(0, 20)}`,
          [],
          { allow },
        );
      }
      if (draining)
        throw new HttpError(503, 'shutting_down', 'the service is shutting down', [], { 'retry-after': '1' });
      if (match.route === 'search' || match.route === 'versions') release = await admission.acquire();
      switch (match.route) {
        case 'search':
          version = await searchRoute(ctx, req, res);
          break;
        case 'versions':
          await versionsRoute(ctx, req, res);
          break;
        case 'activate':
          await activateRoute(ctx, req, res, match.key!);
          await shadower?.refresh().catch(() => null);
          break;
        case 'rollback':
          await rollbackRoute(ctx, req, res, match.key);
          await shadower?.refresh().catch(() => null);
          break;
        case 'healthz':
          await health(db, searcher, res);
          break;
        case 'metrics':
          await sendMetrics(ctx, admission, canary, res);
          break;
      }
    } catch (e) {
      const he = toHttpError(e);
      // A bug of ours is an error; a 503 (database away) is in the request log line below.
      if (he.status >= 500 && he.code === 'internal')
        logger.error({ err: (e as Error)?.message, route }, 'request failed');
      if (!res.headersSent) sendError(res, he);
      else res.destroy();
    } finally {
      release?.();
      metrics.requests.inc({ route, status: String(res.statusCode) });
      logger.info(
        {
          method: req.method,
          route,
          status: res.statusCode,
          ms: Math.round((performance.now() - t0) * 10) / 10,
          ...(version ? { version } : {}),
        },
        'request',
      );
      if (--inFlight === 0 && idle) idle();
    }
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = KEEP_ALIVE_IDLE_MS;

  let closing: Promise<void> | undefined;
  return {
    server,
    searcher,
    shadower,
    metrics,
    admission,
    canary,
    inFlight: () => inFlight,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const a = server.address() as AddressInfo;
          resolve({ port: a.port, host: a.address });
        });
      });
    },
    close(timeoutMs = 10_000) {
      closing ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          await Promise.race([
            new Promise<void>((resolve) => {
              idle = resolve;
            }),
            new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
          ]);
        }
        server.closeAllConnections();
        await closed;
        await canary.stop();
        await shadower?.close({ timeoutMs: Math.min(timeoutMs, 5000) });
        await searcher.close();
      })();
      return closing;
    },
  };
}

/**
 * 200 when a search without `version` can be answered now: the database
 * answers and a version serves (the pinned one, not retired, or the active
 * one). 503 otherwise, saying which. The body tells how this process learns
 * about flips (`listening`, or `reconnecting` while its LISTEN connection is
 * being re-established: meanwhile the active version is read per request).
 */
async function health(db: Db, searcher: Searcher, res: ServerResponse): Promise<void> {
  const watch = searcher.activeSource();
  try {
    await sql`select 1`.execute(db.kysely);
  } catch (e) {
    throw new HttpError(
      503,
      'database_unreachable',
      `the database is unreachable: ${scrubSecrets(String((e as Error)?.message ?? e))}`,
      [],
      { 'retry-after': '2' },
    );
  }
  let serving;
  try {
    serving = await searcher.servingVersion();
  } catch (e) {
    const he = toHttpError(e);
    if (he.status === 503) throw he;
    // No active version, or a pinned version that is unknown or retired: default searches fail.
    sendJson(res, 503, {
      status: 'no_serving_version',
      backend: db.backend,
      serving: null,
      watch,
      error: { code: he.code, message: he.message },
    });
    return;
  }
  sendJson(res, 200, {
    status: 'ok',
    backend: db.backend,
    serving: serving.row.version_key,
    source: serving.source,
    watch,
  });
}

/** The path of a request target, shortened, for messages. */
function pathOf(target: string | undefined): string {
  const p = String(target ?? '/').replace(/[?#].*$/s, '');
  return p.length > 200 ? `${p.slice(0, 200)}…` : p;
}

async function sendMetrics(
  ctx: RouteContext,
  admission: Admission,
  canary: CanaryMonitor,
  res: ServerResponse,
): Promise<void> {
  const serving = await ctx.searcher.servingVersion().catch(() => undefined);
  const text = ctx.metrics.render(serving?.row.version_key ?? null, [
    admissionMetricsText(admission.stats()),
    ...(ctx.shadower ? [shadowMetricsText(ctx.shadower.stats())] : []),
    canary.metricsText(),
  ]);
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  res.end(text);
}

export type { IncomingMessage };
