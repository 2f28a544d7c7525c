import { EncoderOutputError } from '../errors.js';

/**
 * An encoder returned vectors of another size than expected. Carries both
 * numbers so that callers (registration, the backfill) can say what to do
 * without parsing a message.
 */
export class EncoderDimensionsError extends EncoderOutputError {
  constructor(
    message: string,
    readonly actual: number,
    readonly expected: number,
  ) {
    super(message);
  }
}
