import { spawnCli } from './cli.js';

export interface ServeProcess {
  base: string;
  pid: number;
  /** stderr so far (pino logs and errors). */
  stderr(): string;
  /** Whether the process has exited (and how). */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `embctl serve --port 0` as a child process; resolves once it listens. */
export async function startServe(env: NodeJS.ProcessEnv, args: string[] = []): Promise<ServeProcess> {
  const { child, out, exited } = spawnCli(['--json', 'serve', '--port', '0', ...args], { env });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (exit = e));
  const port = await new Promise<number>((resolve, reject) => {
    const check = () => {
      const m = /"port":\s*(\d+)/.exec(out.stdout);
      if (m) {
        clearInterval(timer);
        resolve(Number(m[1]));
      } else if (exit) {
        clearInterval(timer);
        reject(new Error(`embctl serve exited (${exit.code ?? exit.signal}) before listening: ${out.stderr}`));
      }
    };
    const timer = setInterval(check, 50);
  });
  return {
    base: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stderr: () => out.stderr,
    exit: () => exit,
    async stop() {
      if (!exit) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface LoadStats {
  byStatus: Map<number | string, number>;
  /** 503 answers without a Retry-After header. */
  unavailableWithoutRetryAfter: number;
  /** Responses that were not 200 or 503, with their bodies (first few). */
  unexpected: string[];
  /** Network failures (the process died or reset the connection). */
  networkErrors: string[];
  ok: number;
}

/**
 * `clients` loops of POST /v1/search until `stop()`. Every answer is
 * counted by status; a 503 must carry Retry-After.
 */
export function searchLoad(
  base: string,
  clients: number,
  body: (i: number) => unknown,
): { stats: LoadStats; stop(): Promise<void> } {
  const stats: LoadStats = {
    byStatus: new Map(),
    unavailableWithoutRetryAfter: 0,
    unexpected: [],
    networkErrors: [],
    ok: 0,
  };
  let running = true;
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; running; i++) {
      try {
        const r = await fetch(`${base}/v1/search`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body(c * 100_000 + i)),
        });
        const text = await r.text();
        stats.byStatus.set(r.status, (stats.byStatus.get(r.status) ?? 0) + 1);
        if (r.status === 200) stats.ok++;
        else if (r.status === 503) {
          if (!r.headers.get('retry-after')) stats.unavailableWithoutRetryAfter++;
          await new Promise((res) => setTimeout(res, 50));
        } else if (stats.unexpected.length < 10) stats.unexpected.push(`${r.status} ${text.slice(0, 300)}`);
      } catch (e) {
        stats.byStatus.set('network', (stats.byStatus.get('network') ?? 0) + 1);
        if (stats.networkErrors.length < 10) stats.networkErrors.push(String((e as Error).cause ?? e));
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  });
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * Poll `probe` until it returns a value (not undefined); give up after
 * `limitMs` (generous: a bound, not a timing assertion), or at once when
 * `check` throws (e.g. the process under test died).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { limitMs?: number; everyMs?: number; check?: () => void } = {},
): Promise<T> {
  const until = Date.now() + (opts.limitMs ?? 600_000);
  let last: unknown;
  for (;;) {
    opts.check?.();
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until)
      throw new Error(`gave up waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
  }
}
