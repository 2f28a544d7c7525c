/**
 * Text analysis shared by every variant: Unicode NFKC, lowercase, and word
 * tokens made of Unicode letters, combining marks and digits.
 */
const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;

export function normalizeForHashing(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Call `visit` with each word token of normalized text, in order. */
export function forEachWord(normalized: string, visit: (token: string) => void): void {
  WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = WORD.exec(normalized)) !== null) visit(m[0]);
}

/** Number of word tokens in a text (the hash encoder's token count). */
export function countWords(text: string): number {
  const normalized = normalizeForHashing(text);
  WORD.lastIndex = 0;
  let n = 0;
  while (WORD.exec(normalized) !== null) n++;
  return n;
}
