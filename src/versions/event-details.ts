/**
 * The `details` of each kind of audit event (`version_events.details`),
 * defined once: one zod shape per event kind. `recordEvent` takes the
 * details of the event it records as this type, so every writer is checked
 * by the compiler; readers (rollback, the report's timeline) go through
 * `parseEventDetails`. Every version of embctl so far wrote these shapes.
 */
import { z } from 'zod';
import type { VersionEventKind } from '../db/index.js';

/** A readiness problem a forced action overrode. */
const overridden = z.array(z.object({ code: z.string(), message: z.string() }));

/** The figures of one canary check (`versions verify`, `serve`, `evaluate --gate`). */
const canaryCheck = z.object({
  /** Who checked: the command that ran it. */
  by: z.enum(['verify', 'serve', 'gate']),
  texts: z.number().int(),
  moved: z.number().int(),
  minCosine: z.number(),
  meanCosine: z.number(),
  /** Largest coordinate change; null when the dimensions changed (no coordinate to compare). */
  maxAbsDiff: z.number().nullable(),
  tolerance: z.object({ minCosine: z.number(), maxAbsDiff: z.number().nullable() }),
  /** The model the provider reports now, and the one recorded with the canary. */
  reportedModel: z.string(),
  recordedModel: z.string(),
  /** The dimensions now, when they differ from the recorded ones. */
  dimensionsNow: z.number().int().nullable(),
  /** The moved texts with the lowest cosine (position in the canary set). */
  worst: z.array(z.object({ position: z.number().int(), cosine: z.number() })),
});

export const EVENT_DETAILS = {
  registered: z.object({
    encoder: z.string(),
    identity: z.object({
      name: z.string(),
      revision: z.string(),
      settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    }),
    dimensions: z.number().int(),
    metric: z.string(),
    index: z.string(),
    storage: z.string(),
    /** A derived version (issue 16): its parent and transform. */
    derivation: z.record(z.string(), z.unknown()).optional(),
  }),
  backfill_started: z.object({ chunks: z.number().int(), batches: z.number().int(), worker: z.string() }),
  /** The run's counters (embedded, reused, tokens, ...). */
  backfill_completed: z.record(z.string(), z.number()),
  /** Not written by embctl today; drawn on the timeline when present. */
  backfill_failed: z.record(z.string(), z.unknown()),
  index_built: z.object({ kind: z.string(), storage: z.string(), ms: z.number() }),
  gate_passed: z.object({
    evaluation_run_id: z.number().int(),
    judged_set: z.string(),
    judged_set_sha256: z.string(),
    baseline: z.string().nullable(),
    failed: z.array(z.string()),
  }),
  gate_failed: z.object({
    evaluation_run_id: z.number().int(),
    judged_set: z.string(),
    judged_set_sha256: z.string(),
    baseline: z.string().nullable(),
    failed: z.array(z.string()),
  }),
  activated: z.object({
    /** The version that was active before, if any: what `rollback` goes back to. */
    previous: z.string().nullable(),
    forced: z.boolean(),
    overridden: overridden.optional(),
    live: z.number().int(),
    gateRun: z.number().int().nullable(),
  }),
  rolled_back: z.object({
    previous: z.string().nullable(),
    forced: z.boolean(),
    /** The version asked for with `--to`, else null (the previous one from the audit trail). */
    to: z.string().nullable(),
    overridden: overridden.optional(),
  }),
  retired: z.object({ vectorsDropped: z.number().int(), batchesRemoved: z.number().int(), previousState: z.string() }),
  shadow_started: z.object({
    sampleRate: z.number(),
    k: z.number().int(),
    storeQueryText: z.boolean(),
    coverage: z.number(),
    /** The version whose shadow this one replaced. */
    replaced: z.string().nullable(),
    /** The settings before, when the same version's shadow was restarted. */
    previous: z.object({ sampleRate: z.number(), k: z.number().int(), storeQueryText: z.boolean() }).optional(),
  }),
  shadow_stopped: z.object({ replacedBy: z.string().optional() }),
  /** A canary set embedded and stored for the version (at registration, or `versions verify --record`). */
  canary_recorded: z.object({
    set: z.string(),
    setSha256: z.string(),
    texts: z.number().int(),
    corpusSample: z.number().int(),
    dimensions: z.number().int(),
    reportedModel: z.string(),
    /** True when an earlier canary of the version was replaced. */
    replaced: z.boolean(),
  }),
  canary_checked: canaryCheck,
  canary_failed: canaryCheck,
} as const satisfies Record<VersionEventKind, z.ZodType>;

/** The details of each event kind. */
export type EventDetailsMap = { [K in VersionEventKind]: z.infer<(typeof EVENT_DETAILS)[K]> };

/** The details of one event kind, or null when the stored row has another shape (written by something else). */
export function parseEventDetails<K extends VersionEventKind>(event: K, details: unknown): EventDetailsMap[K] | null {
  const parsed = EVENT_DETAILS[event].safeParse(details);
  return parsed.success ? (parsed.data as EventDetailsMap[K]) : null;
}
