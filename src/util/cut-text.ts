/**
 * `s` cut to at most `maxChars` UTF-16 code units, never between the two
 * halves of a surrogate pair (an emoji, a CJK extension character): a cut
 * that would end on a high surrogate ends one unit earlier, so the result
 * is always well-formed text (PostgreSQL and JSON reject a lone half).
 */
export function cutText(s: string, maxChars: number): string {
  if (s.length <= maxChars) return s;
  const end = maxChars > 0 && isHighSurrogate(s.charCodeAt(maxChars - 1)) ? maxChars - 1 : maxChars;
  return s.slice(0, Math.max(0, end));
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
