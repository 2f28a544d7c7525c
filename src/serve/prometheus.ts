/**
 * A small Prometheus registry: counters, gauges and latency histograms with
 * labels, rendered in the text exposition format. Label values are escaped
 * here, once. No dependency, no global state.
 */
import type { ShadowStats } from '../shadow/index.js';
import type { AdmissionStats } from './admission.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type Labels = Record<string, string>;

function key(labels: Labels): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export class Counter {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }
  /** The total of a counter kept elsewhere (e.g. the shadower's own counts). */
  set(labels: Labels, total: number): void {
    this.#values.set(key(labels), total);
  }
  render(): string {
    return renderSamples(this.name, this.help, 'counter', this.#values);
  }
}

export class Gauge {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(labels: Labels, value: number): void {
    this.#values.set(key(labels), value);
  }
  render(): string {
    return renderSamples(this.name, this.help, 'gauge', this.#values);
  }
}

function renderSamples(name: string, help: string, type: 'counter' | 'gauge', values: Map<string, number>): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [k, v] of values) lines.push(`${name}${k ? `{${k}}` : ''} ${v}`);
  return lines.join('\n');
}

export class Histogram {
  readonly #series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[] = BUCKETS,
  ) {}
  observe(labels: Labels, seconds: number): void {
    const k = key(labels);
    let s = this.#series.get(k);
    if (!s) this.#series.set(k, (s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    this.buckets.forEach((b, i) => {
      if (seconds <= b) s!.counts[i]!++;
    });
    s.sum += seconds;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.#series) {
      const sep = k ? ',' : '';
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** The service's metrics. */
export class ServiceMetrics {
  readonly requests = new Counter('embctl_http_requests_total', 'HTTP requests by route and status.');
  readonly searches = new Counter('embctl_search_requests_total', 'Searches served, by the version that served them.');
  readonly searchErrors = new Counter('embctl_search_errors_total', 'Searches that failed, by reason.');
  readonly latency = new Histogram(
    'embctl_search_duration_seconds',
    'Search latency by serving version (embedding included).',
  );

  render(activeVersion: string | null, extra: string[] = []): string {
    const active = new Gauge('embctl_active_version', 'The version serving requests without an explicit version (1).');
    if (activeVersion) active.set({ version: activeVersion }, 1);
    return (
      [
        this.requests.render(),
        this.searches.render(),
        this.searchErrors.render(),
        this.latency.render(),
        active.render(),
        ...extra,
      ]
        .filter(Boolean)
        .join('\n') + '\n'
    );
  }
}

/** A shadower's counters as Prometheus metrics, labelled with the candidate when one is shadowed. */
export function shadowMetricsText(s: ShadowStats): string {
  const labels: Labels = s.candidate ? { candidate: s.candidate } : {};
  const counter = (name: string, help: string, v: number) => {
    const c = new Counter(name, help);
    c.set(labels, v);
    return c.render();
  };
  const gauge = (name: string, help: string, v: number) => {
    const g = new Gauge(name, help);
    g.set(labels, v);
    return g.render();
  };
  return [
    counter('embctl_shadow_enqueued_total', 'Sampled queries queued for the candidate.', s.enqueued),
    counter('embctl_shadow_completed_total', 'Candidate searches finished and logged.', s.completed),
    counter('embctl_shadow_dropped_total', 'Sampled queries dropped (queue full or shutdown).', s.dropped),
    counter('embctl_shadow_failed_total', 'Candidate searches or writes that failed.', s.failed),
    gauge('embctl_shadow_queue_depth', 'Candidate queries waiting.', s.queueDepth),
    gauge('embctl_shadow_in_flight', 'Candidate searches running.', s.inFlight),
  ].join('\n');
}

/** Admission control (searches and /v1/versions): slots in use, the wait queue, and refusals by reason. */
export function admissionMetricsText(s: AdmissionStats): string {
  const rejected = new Counter(
    'embctl_http_overload_rejections_total',
    'Requests refused with 503 because the service was overloaded, by reason (queue_full, wait_timeout).',
  );
  for (const [reason, n] of Object.entries(s.rejected)) rejected.set({ reason }, n);
  const gauge = (name: string, help: string, v: number) => {
    const g = new Gauge(name, help);
    g.set({}, v);
    return g.render();
  };
  return [
    rejected.render(),
    gauge('embctl_http_admitted_in_flight', 'Searches and version reads running now.', s.running),
    gauge('embctl_http_admitted_in_flight_limit', 'Most searches and version reads that run at once.', s.limit),
    gauge('embctl_http_admission_queue_depth', 'Requests waiting for a slot now.', s.queued),
    gauge('embctl_http_admission_queue_limit', 'Most requests that wait for a slot.', s.queueLimit),
  ].join('\n');
}
