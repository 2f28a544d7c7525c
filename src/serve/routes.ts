import { z } from 'zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../db/index.js';
import { EmbctlError } from '../errors.js';
import { standbyRefusal, type StandbyInfo } from './standby.js';
import { activate, rollback } from '../lifecycle/index.js';
import type { Searcher } from '../search/index.js';
import { getStatus } from '../status/index.js';
import type { Shadower } from '../shadow/index.js';
import { HttpError, bearerMatches, readJson, sendJson } from './http-util.js';
import type { ServiceMetrics } from './prometheus.js';

export interface RouteContext {
  db: Db;
  searcher: Searcher;
  shadower: Shadower | undefined;
  metrics: ServiceMetrics;
  /** Admin token (activate/rollback); admin routes are refused without one. */
  token: string | undefined;
  actor: string;
  bodyLimit: number;
  /** Whether the database is a hot standby now (asked before each write). */
  standby: () => Promise<StandbyInfo>;
}

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const searchBody = z
  .object({
    query: z.string().min(1, 'must not be empty').max(10_000),
    k: z.number().int().min(1).max(1000).optional(),
    filters: z.record(z.string(), scalar).optional(),
    version: z.string().min(1).optional(),
    segment: z.string().max(200).optional(),
    hybrid: z.boolean().optional(),
    minScore: z.number().min(0).max(1).optional(),
    efSearch: z.number().int().min(1).max(1000).optional(),
    probes: z.number().int().min(1).max(32768).optional(),
  })
  .strict();

const adminBody = z
  .object({ reason: z.string().max(1000).optional(), force: z.boolean().optional(), to: z.string().optional() })
  .strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new HttpError(
    400,
    'invalid_request',
    details.length === 1 ? details[0]! : `${details.length} problems in the request`,
    details,
  );
}

// Errors become HTTP answers by their code, in one table.
export { toHttpError } from './error-status.js';

export async function searchRoute(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<string | undefined> {
  const body = parse(searchBody, await readJson(req, ctx.bodyLimit));
  const { segment, ...request } = body;
  const t0 = performance.now();
  let result;
  try {
    result = await ctx.searcher.search(request);
  } catch (e) {
    ctx.metrics.searchErrors.inc({ reason: e instanceof EmbctlError ? e.constructor.name : 'internal' });
    throw e;
  }
  ctx.metrics.searches.inc({ version: result.version });
  ctx.metrics.latency.observe({ version: result.version }, (performance.now() - t0) / 1000);
  sendJson(res, 200, {
    version: result.version,
    source: result.source,
    mode: result.mode,
    k: result.k,
    ms: Math.round(result.ms * 100) / 100,
    hits: result.hits.map((h) => ({
      semanticKey: h.semanticKey,
      documentId: h.documentId,
      chunkNo: h.chunkNo,
      chunkId: h.chunkId,
      content: h.content,
      metadata: h.metadata,
      distance: h.distance,
      score: h.score,
      ...(h.calibratedScore !== undefined ? { calibratedScore: h.calibratedScore } : {}),
      ...(h.fusedScore !== undefined ? { fusedScore: h.fusedScore } : {}),
    })),
    ...(result.exactFallback ? { exactFallback: result.exactFallback } : {}),
  });
  // The caller has its answer; the candidate runs off the request path.
  ctx.shadower?.afterPrimary({
    query: body.query,
    segment,
    primaryVersion: result.version,
    primaryIds: result.hits.map((h) => h.chunkId),
    primaryMs: result.ms,
    k: result.k,
    params: { filters: request.filters, hybrid: request.hybrid },
  });
  return result.version;
}

export async function versionsRoute(ctx: RouteContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const s = await getStatus(ctx.db);
  const serving = await ctx.searcher.servingVersion().catch(() => undefined);
  sendJson(res, 200, { serving: serving?.row.version_key ?? null, versions: s.versions });
}

function requireAdmin(ctx: RouteContext, req: IncomingMessage): void {
  if (!ctx.token)
    throw new HttpError(
      403,
      'admin_disabled',
      'admin endpoints are disabled: start embctl serve with EMBCTL_SERVE_TOKEN set',
    );
  if (!bearerMatches(req, ctx.token)) throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token');
}

export async function activateRoute(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
): Promise<void> {
  requireAdmin(ctx, req);
  const body = parse(adminBody.omit({ to: true }), await readJson(req, ctx.bodyLimit));
  await refuseOnStandby(ctx);
  const r = await activate(ctx.db, key, { actor: `${ctx.actor} (http)`, force: body.force, reason: body.reason });
  ctx.searcher.invalidateActive(); // this process's next search sees the flip at once
  sendJson(res, 200, r);
}

export async function rollbackRoute(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  key?: string,
): Promise<void> {
  requireAdmin(ctx, req);
  const body = parse(adminBody, await readJson(req, ctx.bodyLimit));
  await refuseOnStandby(ctx);
  const r = await rollback(ctx.db, {
    actor: `${ctx.actor} (http)`,
    to: key ?? body.to,
    force: body.force,
    reason: body.reason,
  });
  ctx.searcher.invalidateActive();
  sendJson(res, 200, r);
}

/** A flip needs the primary: on a standby, say where it is instead of failing inside the transaction. */
async function refuseOnStandby(ctx: RouteContext): Promise<void> {
  const info = await ctx.standby();
  if (info.standby) throw standbyRefusal(info);
}
