import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RUN = fileURLToPath(new URL('../../src/cli/run.ts', import.meta.url));
/** tsx's loader by absolute URL, so the CLI runs from any working directory. */
export const TSX = import.meta.resolve('tsx');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the CLI from source (tsx) as a child process. No time limit by default:
 * a loaded machine is slow, not wrong; pass `timeoutMs` only where a hang is
 * what the test is about.
 */
export function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, RUN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, EMBCTL_LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Environment that points the CLI at a test target (server URL or PGlite folder). */
export function targetEnv(t: { url: string | undefined; homeDir: string }): NodeJS.ProcessEnv {
  return t.url ? { DATABASE_URL: t.url, EMBCTL_HOME: t.homeDir } : { DATABASE_URL: '', EMBCTL_HOME: t.homeDir };
}

export interface SpawnedCli {
  child: ReturnType<typeof spawn>;
  /** Everything printed so far. */
  out: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start the CLI as a child process and return it (for signal tests). */
export function spawnCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnedCli {
  const child = spawn(process.execPath, ['--import', TSX, RUN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, EMBCTL_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, out, exited };
}

/**
 * Wait until the child has printed `count` matches of `pattern` (a global
 * regex) on stdout or stderr. Rejects, with its output, if it exits first.
 */
export async function waitForOutput(run: SpawnedCli, pattern: RegExp, count = 1): Promise<void> {
  const seen = () => (run.out.stdout.match(pattern)?.length ?? 0) + (run.out.stderr.match(pattern)?.length ?? 0);
  let exited = false;
  void run.exited.then(() => {
    exited = true;
  });
  while (seen() < count) {
    if (exited) {
      throw new Error(`the CLI exited before printing ${count} × ${pattern}: ${run.out.stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
