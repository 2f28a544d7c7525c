/** The built-in `hash:<variant>` encoder: weight-free, deterministic feature hashing. */
import { HashEncoder } from './hash-encoder.js';
import { resolveHashVariant } from './variants.js';

export { HashEncoder, HASH_ENCODER_REVISION } from './hash-encoder.js';
export { HASH_VARIANTS, DEFAULT_HASH_VARIANT, resolveHashVariant, type HashVariant } from './variants.js';
export { porterStem } from './porter-stemmer.js';

/**
 * Make a hash encoder. `variant` may be a bare variant (`mixed-768`), a full
 * spec (`hash:mixed-768`, `hash`), or omitted for the default variant.
 */
export function createHashEncoder(variant?: string): HashEncoder {
  let name = variant;
  if (name !== undefined && (name === 'hash' || name.startsWith('hash:'))) name = name.slice(5);
  const resolved = resolveHashVariant(name);
  const spec = variant === undefined ? 'hash' : variant.startsWith('hash') ? variant : `hash:${variant}`;
  return new HashEncoder(spec, resolved);
}
