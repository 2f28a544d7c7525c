import type { Logger } from '../log/index.js';

/**
 * Progress of long work: a live line on a terminal, a structured log line
 * every few seconds otherwise. `done()` clears the live line.
 */
export interface ProgressLine {
  update(line: string, fields?: Record<string, unknown>): void;
  done(): void;
}

export function createProgress(
  logger: Logger,
  opts: { quiet?: boolean; stream?: NodeJS.WriteStream; everyMs?: number } = {},
): ProgressLine {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY) && !opts.quiet;
  const every = opts.everyMs ?? 5000;
  let last = 0;
  let shown = false;
  return {
    update(line, fields) {
      const now = Date.now();
      if (tty) {
        if (now - last < 100) return;
        last = now;
        const width = (stream.columns ?? 100) - 1;
        stream.write(`\r${line.slice(0, width).padEnd(Math.min(width, line.length + 2))}`);
        shown = true;
      } else if (now - last >= every) {
        last = now;
        logger.info({ progress: line, ...fields }, 'progress');
      }
    },
    done() {
      if (tty && shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** `1m 05s`, `42s`, `1h 03m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Dollars with at least 4 decimals and 3 significant digits, so a small run
 * does not read `$0.0000`: `$0.5000`, `$0.00123`, `$0.0000123`, `$0`.
 */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return '$?';
  if (usd === 0) return '$0';
  const digits = Math.min(20, Math.max(4, 2 - Math.floor(Math.log10(Math.abs(usd)))));
  return `$${usd.toFixed(digits)}`;
}
