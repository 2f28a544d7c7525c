/** Turning a batch that finally failed into the embctl error the user sees: one line, no key. */
import { EncoderError, EncoderOutputError, InputError } from '../../errors.js';
import { EncoderDimensionsError } from '../dimensions-error.js';
import { PLACEHOLDER_API_KEY, type ResolvedOpenAIOptions } from './options.js';
import { BatchFailure } from './retry.js';
import { withTextIndex } from '../output-error.js';

/** `at` is the batch suffix, e.g. ` (batch 17)`. Anything but a BatchFailure (the caller's abort) passes through. */
export function toEncoderError(
  err: unknown,
  name: string,
  at: string,
  cfg: Pick<ResolvedOpenAIOptions, 'official' | 'apiKey' | 'baseURLHost'>,
): unknown {
  if (!(err instanceof BatchFailure)) return err; // the caller's abort reason, or a bug
  const f = err.failure;
  if (f.dimensions)
    return withTextIndex(
      new EncoderDimensionsError(`${name} returned ${f.reason}${at}`, f.dimensions.actual, f.dimensions.expected),
      f.textIndex,
    );
  if (f.invalidResponse) return withTextIndex(new EncoderOutputError(`${name} returned ${f.reason}${at}`), f.textIndex);
  const status = f.status;
  if (status === 401 || status === 403) {
    const hint =
      cfg.official || cfg.apiKey !== PLACEHOLDER_API_KEY
        ? 'check the API key (OPENAI_API_KEY)'
        : 'this server needs a key: set OPENAI_API_KEY';
    return new InputError(
      `${name}: ${status === 401 ? 'authentication failed' : 'permission denied'} at ${cfg.baseURLHost}${at}: ${f.reason}; ${hint}`,
    );
  }
  if (status === 404) {
    return new InputError(
      `${name}: not found at ${cfg.baseURLHost}${at}: ${f.reason}; check the model name and base URL`,
    );
  }
  if (status !== undefined && status >= 400 && status < 500 && !f.retryable) {
    return new InputError(`${name}: request refused${at}: ${f.reason}`);
  }
  const tries = err.attempts > 1 ? ` after ${err.attempts} attempts` : '';
  return new EncoderError(`${name} failed${tries}${at}: ${f.reason}`);
}
