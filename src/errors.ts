/**
 * The four kinds of failure embctl distinguishes. Library code throws these;
 * only the CLI entry point maps them to exit codes (DESIGN.md: 0 ok,
 * 1 failed gate or refused action, 2 bad usage or bad input).
 */
export abstract class EmbctlError extends Error {
  abstract readonly exitCode: number;
  /** Extra lines (e.g. every problem of an input) shown under the one-line message. */
  readonly details: string[];
  constructor(message: string, details: string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }
}

/** The command line itself is wrong: unknown flag, bad value, missing argument. */
export class UsageError extends EmbctlError {
  readonly exitCode = 2;
}

/** The input (a file, a config, an encoder's payload) is wrong; nothing was written. */
export class InputError extends EmbctlError {
  readonly exitCode = 2;
}

/** The action is understood but refused by a rule (gate failed, not backfilled, ...). */
export class RefusedError extends EmbctlError {
  readonly exitCode = 1;
}

/** Something outside the user's control failed (database unreachable, encoder down). */
export class InternalError extends EmbctlError {
  readonly exitCode = 1;
}

/**
 * A dependency is away for now (the database connection was lost, the
 * server is shutting down or refusing connections): the same request or
 * command may succeed later. The HTTP service answers 503 with Retry-After.
 */
export class UnavailableError extends EmbctlError {
  readonly exitCode = 1;
  /** Suggested wait before trying again, in seconds. */
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, [], options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 2;
  }
}

export function isEmbctlError(e: unknown): e is EmbctlError {
  return e instanceof EmbctlError;
}

/** The work was interrupted by a signal after a clean stop (exit 130, like a shell). */
export class InterruptedError extends EmbctlError {
  readonly exitCode = 130;
}
