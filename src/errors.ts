/**
 * What can go wrong in embctl, by what happened. Library code throws these
 * classes; each carries a machine-readable `code` (ErrorCode). The classes do
 * not know how a failure is shown: the CLI entry maps codes to exit codes
 * (src/cli/exit-codes.ts: 0 ok, 1 refused or unavailable, 2 bad usage, input
 * or an unknown name, 130 interrupted) and `serve` maps them to HTTP statuses
 * (src/serve/error-status.ts).
 *
 * The kinds:
 * - UsageError (`usage`): the command line itself is wrong.
 * - InputError (`invalid_input`): a file, config or option value is wrong.
 * - NotFoundError (`not_found`, a kind of InputError): a version, judged set, ... that is named does not exist.
 * - RefusedError (`refused`, or a readiness code): a rule refuses the action.
 * - UnavailableError (`unavailable`): the database is away or cannot be opened; try again later.
 * - ReplicaBehindError (`replica_behind`): a hot standby has not replayed yet what was named (a
 *   version just registered or backfilled on the primary); try again shortly.
 * - EncoderError (`encoder_failed`): the encoder gave no answer (down, failed after retries, closed);
 *   EncoderOutputError (`encoder_bad_output`): it answered with vectors embctl cannot use.
 * - WriteFailedError (`write_failed`): the database rejected a write; that unit of work was rolled back.
 * - InvariantError (`invariant`): embctl's own contract was broken (a bug, a damaged install,
 *   or a caller passing what the API forbids).
 * - InterruptedError (`interrupted`): a signal stopped the work after a clean stop.
 */

/**
 * The codes of lifecycle readiness problems (`Problem.code` in
 * src/lifecycle/readiness.ts): a refusal for one of these carries it as its code.
 */
export const READINESS_CODES = [
  'retired',
  'incomplete',
  'index_missing',
  'index_invalid',
  'gate_failed',
  'gate_missing',
  'canary_failed',
] as const;
export type ReadinessCode = (typeof READINESS_CODES)[number];

/** The codes a RefusedError can carry: a readiness problem, or a plain `refused`. */
export type RefusalCode = 'refused' | ReadinessCode;

/** Every machine-readable error code, in one list (the mapping tables are checked against it). */
export const ERROR_CODES = [
  'usage',
  'invalid_input',
  'not_found',
  'refused',
  ...READINESS_CODES,
  'unavailable',
  'replica_behind',
  'encoder_failed',
  'encoder_bad_output',
  'write_failed',
  'invariant',
  'interrupted',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface EmbctlErrorOptions {
  cause?: unknown;
}

export abstract class EmbctlError extends Error {
  /** What happened, for programs (stable; see ERROR_CODES). */
  abstract readonly code: ErrorCode;
  /** Extra lines (e.g. every problem of an input) shown under the one-line message. */
  readonly details: string[];
  constructor(message: string, details: string[] = [], options?: EmbctlErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }

  /** The message for a client that cannot run embctl commands (HTTP); the same unless a class says less. */
  get brief(): string {
    return this.message;
  }
}

/** The command line itself is wrong: unknown flag, bad value, missing argument. */
export class UsageError extends EmbctlError {
  readonly code = 'usage';
}

/** The input (a file, a config, an encoder's payload) is wrong; nothing was written. */
export class InputError extends EmbctlError {
  readonly code: 'invalid_input' | 'not_found' = 'invalid_input';
}

/**
 * Something named does not exist: a version, a judged set file, ... A kind
 * of bad input (callers that catch InputError still catch it), with its own code.
 */
export class NotFoundError extends InputError {
  override readonly code = 'not_found';
}

/**
 * The action is understood but refused by a rule (gate failed, not
 * backfilled, ...). The code says which rule when it is a readiness problem.
 */
export class RefusedError extends EmbctlError {
  readonly code: RefusalCode;
  constructor(message: string, details: string[] = [], options?: EmbctlErrorOptions & { code?: RefusalCode }) {
    super(message, details, options);
    this.code = options?.code ?? 'refused';
  }
}

/**
 * The database is away for now (the connection was lost or cannot be made,
 * the server is shutting down or refusing connections, the embedded database
 * cannot be opened): the same request or command may succeed later. The
 * HTTP service answers 503 with Retry-After.
 */
export class UnavailableError extends EmbctlError {
  readonly code = 'unavailable';
  /** Suggested wait before trying again, in seconds. */
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: EmbctlErrorOptions & { retryAfterSeconds?: number }) {
    super(message, [], options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 2;
  }
}

/**
 * A hot standby (read replica) has not replayed yet what a request names: a
 * version registered or backfilled on the primary a moment ago, whose row or
 * vectors are still in the WAL the standby has not applied. The same request
 * succeeds once replay catches up: the HTTP service answers 503 with
 * Retry-After, the CLI exits 1.
 */
export class ReplicaBehindError extends EmbctlError {
  readonly code = 'replica_behind';
  /** Suggested wait before trying again, in seconds. */
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: EmbctlErrorOptions & { retryAfterSeconds?: number }) {
    super(message, [], options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }
}

/**
 * The encoder gave no answer: its service failed (after retries), its model
 * could not be loaded or downloaded, or it was closed. A backfill retries
 * the batch later.
 */
export class EncoderError extends EmbctlError {
  readonly code: 'encoder_failed' | 'encoder_bad_output' = 'encoder_failed';
}

/** The encoder answered with vectors embctl cannot use (wrong size, not finite, malformed). */
export class EncoderOutputError extends EncoderError {
  override readonly code = 'encoder_bad_output';
}

/** The database rejected a write (a trigger, a constraint): that unit of work was rolled back. */
export class WriteFailedError extends EmbctlError {
  readonly code = 'write_failed';
}

/** embctl's own contract was broken: a bug, a damaged install, or a caller passing what the API forbids. */
export class InvariantError extends EmbctlError {
  readonly code = 'invariant';
}

/** The work was interrupted by a signal after a clean stop (exit 130, like a shell). */
export class InterruptedError extends EmbctlError {
  readonly code = 'interrupted';
}

/**
 * @deprecated named for who is to blame, not what happened: catch
 * UnavailableError (database away), EncoderError (encoder failed),
 * WriteFailedError or InvariantError instead.
 */
export const InternalError = UnavailableError;
/** @deprecated see the value of the same name. */
export type InternalError = UnavailableError;

export function isEmbctlError(e: unknown): e is EmbctlError {
  return e instanceof EmbctlError;
}
