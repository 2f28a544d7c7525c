import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import type { Db } from '../db/open.js';
import type { Logger } from '../log/logger.js';
import { createSearcher, type Searcher } from '../search/index.js';
import type { EncoderDeps } from '../encoders/factory.js';
import { createShadower, shadowMetricsText, type Shadower } from '../shadow/shadower.js';
import { HttpError, sendError, sendJson } from './http-util.js';
import { ServiceMetrics } from './metrics.js';
import { activateRoute, rollbackRoute, searchRoute, toHttpError, versionsRoute, type RouteContext } from './routes.js';

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
}

export interface Service {
  readonly server: Server;
  readonly searcher: Searcher;
  readonly shadower: Shadower | undefined;
  readonly metrics: ServiceMetrics;
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
  const searcher = createSearcher(db, {
    logger: opts.logger, pinVersion: opts.pinVersion, encoderDeps: opts.encoderDeps,
    watchActive: db.backend === 'postgres' && !opts.replica,
  });
  let inFlight = 0; // requests being handled (shadowing waits for 0)
  const shadower = opts.shadow === false || opts.replica ? undefined : createShadower(db, {
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
  const ctx: RouteContext = {
    db, searcher, shadower, metrics, token: opts.token, actor: opts.actor, bodyLimit: opts.bodyLimit ?? 64 * 1024,
  };
  let draining = false;
  let idle: (() => void) | undefined;

  const server = createHttpServer(async (req, res) => {
    const t0 = performance.now();
    inFlight++;
    let route = 'unknown';
    let version: string | undefined;
    try {
      if (draining) throw new HttpError(503, 'shutting_down', 'the service is shutting down');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const m = url.pathname.match(/^\/v1\/versions\/([^/]+)\/(activate|rollback)$/);
      if (req.method === 'POST' && url.pathname === '/v1/search') {
        route = 'search';
        version = await searchRoute(ctx, req, res);
      } else if (req.method === 'GET' && url.pathname === '/v1/versions') {
        route = 'versions';
        await versionsRoute(ctx, req, res);
      } else if (req.method === 'POST' && m) {
        route = m[2]!;
        const key = decodeURIComponent(m[1]!);
        if (m[2] === 'activate') await activateRoute(ctx, req, res, key);
        else await rollbackRoute(ctx, req, res, key);
        await shadower?.refresh();
      } else if (req.method === 'POST' && url.pathname === '/v1/rollback') {
        route = 'rollback';
        await rollbackRoute(ctx, req, res);
      } else if (req.method === 'GET' && url.pathname === '/healthz') {
        route = 'healthz';
        await health(db, searcher, res);
      } else if (req.method === 'GET' && url.pathname === '/metrics') {
        route = 'metrics';
        await sendMetrics(ctx, res);
      } else {
        throw new HttpError(404, 'not_found', `no route ${req.method} ${url.pathname}`);
      }
    } catch (e) {
      const he = toHttpError(e);
      if (he.status >= 500 && he.code === 'internal') logger.error({ err: (e as Error)?.message, route }, 'request failed');
      if (!res.headersSent) sendError(res, he);
      else res.destroy();
    } finally {
      metrics.requests.inc({ route, status: String(res.statusCode) });
      logger.info({ method: req.method, route, status: res.statusCode, ms: Math.round((performance.now() - t0) * 10) / 10, ...(version ? { version } : {}) }, 'request');
      if (--inFlight === 0 && idle) idle();
    }
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  let closing: Promise<void> | undefined;
  return {
    server, searcher, shadower, metrics,
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
            new Promise<void>((resolve) => { idle = resolve; }),
            new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
          ]);
        }
        server.closeAllConnections();
        await closed;
        await shadower?.close({ timeoutMs: Math.min(timeoutMs, 5000) });
        await searcher.close();
      })();
      return closing;
    },
  };
}

async function health(db: Db, searcher: Searcher, res: ServerResponse): Promise<void> {
  try {
    await sql`select 1`.execute(db.kysely);
  } catch (e) {
    throw new HttpError(503, 'database_unreachable', `the database is unreachable: ${(e as Error).message}`);
  }
  const serving = await searcher.servingVersion().catch(() => undefined);
  sendJson(res, 200, { status: 'ok', backend: db.backend, serving: serving?.row.version_key ?? null });
}

async function sendMetrics(ctx: RouteContext, res: ServerResponse): Promise<void> {
  const serving = await ctx.searcher.servingVersion().catch(() => undefined);
  const text = ctx.metrics.render(serving?.row.version_key ?? null, ctx.shadower ? [shadowMetricsText(ctx.shadower.stats()).trimEnd()] : []);
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  res.end(text);
}

export type { IncomingMessage };
