/** Assembling a canary set (shipped texts, optionally a corpus sample) and embedding it in one batch. */
import type { Kysely } from 'kysely';
import type { DB } from '../../db/index.js';
import type { Encoder } from '../../encoders/index.js';
import { EncoderError, EncoderOutputError, InputError } from '../../errors.js';
import { corpusSample } from './store.js';
import { setSha256, sha256Hex, shippedCanarySet, type CanaryText } from './shipped-set.js';

/** Most corpus texts `--canary-sample` may add (each is embedded at every check). */
export const MAX_CANARY_SAMPLE = 1000;

export interface CanarySet {
  name: string;
  sha256: string;
  corpusSample: number;
  texts: CanaryText[];
}

/**
 * The shipped texts, then up to `sample` distinct live corpus texts (the
 * first by content sha256; those equal to a shipped text are skipped).
 */
export async function assembleCanarySet(db: Kysely<DB>, sample = 0): Promise<CanarySet> {
  const shipped = shippedCanarySet();
  const seen = new Set(shipped.texts.map((t) => t.sha256));
  const corpus: CanaryText[] = [];
  for (const content of await corpusSample(db, sample)) {
    const sha256 = sha256Hex(content);
    if (seen.has(sha256)) continue;
    seen.add(sha256);
    corpus.push({ source: 'corpus', content, sha256 });
  }
  const texts = [...shipped.texts, ...corpus];
  return {
    name: corpus.length ? `${shipped.name}+corpus` : shipped.name,
    sha256: setSha256(texts),
    corpusSample: corpus.length,
    texts,
  };
}

/** What the provider says it is: OpenAI's reported `model`; else the encoder's own name and revision. */
export function reportedModelOf(encoder: Encoder): string {
  return encoder.reportedModel ?? `${encoder.identity.name}@${encoder.identity.revision}`;
}

/**
 * Embed the canary texts in one `embed` call (one batch of requests). An
 * encoder failure becomes one line that says what was being done and that
 * nothing was written; `what` names it, e.g. `registering v2`.
 */
export async function embedCanaryTexts(
  encoder: Encoder,
  texts: readonly { content: string }[],
  what: string,
  opts: { signal?: AbortSignal; hint?: string } = {},
): Promise<{ vectors: Float32Array[]; reportedModel: string }> {
  try {
    const vectors = await encoder.embed(
      texts.map((t) => t.content),
      { label: 'canary set', signal: opts.signal },
    );
    if (vectors.length !== texts.length)
      throw new EncoderOutputError(`${encoder.spec} returned ${vectors.length} vectors for ${texts.length} texts`);
    return { vectors, reportedModel: reportedModelOf(encoder) };
  } catch (e) {
    // The encoder's own error (down, bad output, or its refusal of the request) in one line that says what was being done.
    if (!(e instanceof EncoderError || e instanceof InputError)) throw e;
    const message = `${what}: the encoder could not embed the ${texts.length} canary texts (${firstLine(e.message)}); nothing was written${opts.hint ? `: ${opts.hint}` : ''}`;
    if (e instanceof EncoderOutputError) throw new EncoderOutputError(message, e.details, { cause: e });
    if (e instanceof EncoderError) throw new EncoderError(message, e.details, { cause: e });
    throw new InputError(message, e.details, { cause: e });
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/\.$/, '');
}
