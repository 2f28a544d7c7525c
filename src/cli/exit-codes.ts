import { EmbctlError, type ErrorCode } from '../errors.js';

/**
 * The exit code of each error code: 1 when a rule refused the action or a
 * dependency failed (the same command may work once the cause is fixed or
 * back), 2 when what was typed or given is wrong (usage, input, a name that
 * does not exist), 130 after an interrupt (as a shell does).
 */
export const EXIT_CODES = {
  usage: 2,
  invalid_input: 2,
  not_found: 2,
  refused: 1,
  retired: 1,
  incomplete: 1,
  index_missing: 1,
  index_invalid: 1,
  gate_failed: 1,
  gate_missing: 1,
  canary_failed: 1,
  unavailable: 1,
  replica_behind: 1,
  encoder_failed: 1,
  encoder_bad_output: 1,
  write_failed: 1,
  invariant: 1,
  interrupted: 130,
} as const satisfies Record<ErrorCode, number>;

/** The exit code for an error of embctl. */
export function exitCodeOf(e: EmbctlError): number {
  return EXIT_CODES[e.code];
}
