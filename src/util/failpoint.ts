/**
 * Failpoints: named places where a test can make this process die at once,
 * as `kill -9` would, to prove crash safety at moments an outside observer
 * cannot hit reliably (between a write and its commit, say).
 *
 * Off unless `EMBCTL_FAILPOINT=<name>[:<n>]` is set: then the n-th time (default
 * the first) the code reaches `failpoint('<name>')`, the process SIGKILLs
 * itself. Nothing is cleaned up, nothing is flushed: that is the point.
 * Names in use: backfill.plan, backfill.write, index.build, ingest.batch,
 * migrate.apply.
 */
const spec = parse(process.env.EMBCTL_FAILPOINT);
let hits = 0;

function parse(value: string | undefined): { name: string; at: number } | null {
  if (!value) return null;
  const m = /^([a-z][a-z0-9.-]*)(?::(\d+))?$/.exec(value.trim());
  if (!m) throw new Error(`EMBCTL_FAILPOINT="${value}" is not <name>[:<n>]`);
  return { name: m[1]!, at: m[2] ? Math.max(1, Number(m[2])) : 1 };
}

export function failpoint(name: string): void {
  if (spec === null || spec.name !== name) return;
  if (++hits < spec.at) return;
  process.kill(process.pid, 'SIGKILL');
  // The signal is on its way; run nothing more meanwhile.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}
