import { createEncoder, identityHash, type EncoderDeps, type EncoderSettings } from '../encoders/index.js';
import type { Encoder } from '../encoders/index.js';
import { RefusedError } from '../errors.js';
import type { VersionRow } from './store.js';

/**
 * The encoder a stored version was registered with, made again from its
 * spec and settings. Refused when it no longer has the same identity (model
 * files changed, another server): its vectors would not match the others.
 */
export async function encoderForVersion(v: VersionRow, deps: EncoderDeps): Promise<Encoder> {
  const encoder = await createEncoder(v.encoder_spec, v.encoder_settings as EncoderSettings, deps);
  const now = identityHash(encoder.identity);
  // A derived version embeds its queries with its parent's encoder (and transforms them in SQL).
  const expected = (v.derivation as { parentIdentity?: string } | null)?.parentIdentity ?? v.encoder_identity;
  if (now !== expected) {
    await encoder.close?.();
    throw new RefusedError(
      `the encoder of version ${v.version_key} changed since it was registered (${v.encoder_name} revision ${v.encoder_revision.slice(0, 12)}, now ${encoder.identity.revision.slice(0, 12)}): register a new version for the new model`,
    );
  }
  return encoder;
}
