/**
 * The canary set shipped with embctl (`data/canary-v1.json`, in the package's
 * `files`): a few dozen short, varied texts — questions, product lines, code,
 * numbers, six languages, emoji — that any text encoder can embed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InvariantError } from '../../errors.js';

/** The shipped set's file (src/versions/canary/ and dist/versions/canary/ are both three folders down). */
export const CANARY_SET_FILE = fileURLToPath(new URL('../../../data/canary-v1.json', import.meta.url));

const setFile = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  texts: z.array(z.string().min(1)).min(1),
});

export interface CanaryText {
  source: 'shipped' | 'corpus';
  content: string;
  /** sha256 hex of the text (UTF-8). */
  sha256: string;
}

let cached: { name: string; texts: CanaryText[] } | undefined;

/** The shipped set (read once). */
export function shippedCanarySet(): { name: string; texts: CanaryText[] } {
  if (cached) return cached;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(CANARY_SET_FILE, 'utf8'));
  } catch (e) {
    throw new InvariantError(
      `the canary set shipped with embctl (${CANARY_SET_FILE}) cannot be read: ${(e as Error).message}; reinstall embctl`,
    );
  }
  const parsed = setFile.safeParse(raw);
  if (!parsed.success)
    throw new InvariantError(`the canary set shipped with embctl (${CANARY_SET_FILE}) is damaged: reinstall embctl`);
  cached = {
    name: parsed.data.name,
    texts: parsed.data.texts.map((content) => ({ source: 'shipped', content, sha256: sha256Hex(content) })),
  };
  return cached;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 hex over the texts' sha256, in order: the identity of a recorded set. */
export function setSha256(texts: readonly { sha256: string }[]): string {
  const h = createHash('sha256');
  for (const t of texts) h.update(t.sha256).update('\n');
  return h.digest('hex');
}
