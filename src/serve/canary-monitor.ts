/**
 * The encoder canary inside `embctl serve`: at start and then every
 * `intervalMs`, the canary of the serving version (pinned or active) and of
 * the shadowed candidate is embedded again — one batch of requests per
 * version — and compared with what was stored at registration. A moved
 * canary is logged at error level and shown on /metrics; the service keeps
 * serving. An outcome that differs from the version's last canary event is
 * recorded (`canary_failed`, or `canary_checked` once it holds again), so
 * activate refuses a moved candidate; nothing is written on a replica.
 */
import type { Db } from '../db/index.js';
import type { Encoder } from '../encoders/index.js';
import { verifyCanary, type CanaryCheck, type VersionRow } from '../versions/index.js';
import { currentShadow } from '../shadow/index.js';
import type { Logger } from '../log/index.js';
import { Counter, Gauge } from './prometheus.js';

/** `embctl serve --canary-minutes`: the default period. */
export const DEFAULT_CANARY_MINUTES = 15;

export interface CanaryMonitorOptions {
  db: Db;
  logger: Logger;
  actor: string;
  /**
   * A version's encoder: the service's searcher's, so that a check embeds
   * with the very encoder (and model load) that serves the queries, and
   * nothing is loaded twice.
   */
  encoderOf: (v: VersionRow) => Promise<Encoder>;
  /** Between the end of one check and the start of the next; 0 disables the monitor. */
  intervalMs: number;
  /** A read replica: check, but record nothing. */
  replica?: boolean;
  /** The version serving requests without an explicit version (pinned or active); undefined when none. */
  serving: () => Promise<VersionRow | undefined>;
}

interface Outcome {
  check?: CanaryCheck;
  at: number;
}

export class CanaryMonitor {
  readonly #o: CanaryMonitorOptions;
  readonly #log: Logger;
  readonly #outcomes = new Map<string, Outcome>();
  readonly #errors = new Counter(
    'embctl_encoder_canary_check_errors_total',
    'Encoder canary checks that could not run (encoder or database error), by version.',
  );
  readonly #warnedNoCanary = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(opts: CanaryMonitorOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ component: 'canary' });
  }

  /** Check now, then every interval. Does nothing when the interval is 0. */
  start(): void {
    if (this.#o.intervalMs <= 0 || this.#stopped) return;
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.checkNow().finally(() => {
        this.#running = undefined;
        this.#schedule(this.#o.intervalMs);
      });
    }, ms);
    this.#timer.unref();
  }

  /** One round: every version to watch, one after the other. Never throws. */
  async checkNow(): Promise<void> {
    let versions: VersionRow[];
    try {
      versions = await this.#versions();
    } catch (e) {
      this.#log.error(
        { err: String((e as Error)?.message ?? e) },
        'encoder canary: could not read the versions to check',
      );
      return;
    }
    const keys = new Set(versions.map((v) => v.version_key));
    for (const key of [...this.#outcomes.keys()]) if (!keys.has(key)) this.#outcomes.delete(key);
    for (const v of versions) {
      if (this.#stopped) return;
      await this.#checkOne(v);
    }
  }

  async #checkOne(v: VersionRow): Promise<void> {
    try {
      const encoder = await this.#o.encoderOf(v);
      const check = await verifyCanary(this.#o.db, v, {
        actor: this.#o.actor,
        logger: this.#log,
        by: 'serve',
        record: this.#o.replica ? 'never' : 'on-change',
        encoder,
      });
      this.#outcomes.set(v.version_key, { check, at: Date.now() });
      if (check.status === 'no_canary' && !this.#warnedNoCanary.has(v.version_key)) {
        this.#warnedNoCanary.add(v.version_key);
        this.#log.warn({ version: v.version_key }, check.message);
      }
    } catch (e) {
      this.#errors.inc({ version: v.version_key });
      this.#log.error(
        { version: v.version_key, err: String((e as Error)?.message ?? e) },
        `encoder canary check of ${v.version_key} could not run`,
      );
    }
  }

  async #versions(): Promise<VersionRow[]> {
    const out: VersionRow[] = [];
    const serving = await this.#o.serving();
    if (serving && serving.state !== 'retired') out.push(serving);
    const shadow = await currentShadow(this.#o.db.kysely);
    if (shadow && shadow.versionKey !== serving?.version_key) {
      const row = await this.#o.db.kysely
        .selectFrom('embedding_versions')
        .selectAll()
        .where('id', '=', shadow.versionId)
        .executeTakeFirst();
      if (row && row.state !== 'retired') out.push(row);
    }
    return out;
  }

  /** The canary gauges of the versions checked last, for /metrics. */
  metricsText(): string {
    const min = new Gauge(
      'embctl_encoder_canary_min_cosine',
      "Lowest cosine of a canary text to its vector stored at registration, by version (1: unchanged; below the encoder kind's tolerance: the model changed).",
    );
    const moved = new Gauge('embctl_encoder_canary_moved_texts', 'Canary texts outside the tolerance, by version.');
    const failed = new Gauge('embctl_encoder_canary_failed', '1 when the last canary check of the version failed.');
    const at = new Gauge(
      'embctl_encoder_canary_last_check_timestamp_seconds',
      'When the last canary check of the version finished (Unix time).',
    );
    for (const [version, o] of this.#outcomes) {
      const c = o.check;
      if (!c || c.status === 'no_canary') continue;
      min.set({ version }, c.minCosine!);
      moved.set({ version }, c.moved);
      failed.set({ version }, c.status === 'failed' ? 1 : 0);
      at.set({ version }, Math.round(o.at / 1000));
    }
    return [min.render(), moved.render(), failed.render(), at.render(), this.#errors.render()].join('\n');
  }

  /** Stop the timer, wait for a running check (the encoders are the searcher's: it closes them). Safe twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }
}
