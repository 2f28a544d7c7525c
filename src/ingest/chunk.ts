/**
 * Deterministic chunking of normalized text. A chunk ends at the last
 * paragraph break, else line break, else sentence end that fits in `size`
 * characters and leaves the chunk at least MIN_FILL full (so a short first
 * paragraph does not make a tiny chunk); failing that, at the last such
 * boundary anywhere in the chunk; failing that, at the last word boundary.
 * A hard cut happens only inside a word longer than the room left. The next chunk starts at the earliest
 * sentence start, else word start, within the last `overlap` characters of
 * the previous one. Sizes are in UTF-16 code units and exclude the title,
 * which is prepended to every chunk as `title\n\ntext`.
 */

export interface ChunkOptions {
  size: number;
  overlap: number;
}

export const DEFAULT_CHUNK_SIZE = 1000;
export const DEFAULT_CHUNK_OVERLAP = 100;

/** Paragraph, line and sentence boundaries need the chunk at least this full. */
const MIN_FILL = 0.5;

const SENTENCE_END = /[.!?\u2026]+["'\u201d\u2019)\]]*(?=\s)/;

/** `text` must already be normalized; `title` too (one line). Returns the final chunk texts. */
export function chunkDocument(text: string, title: string | undefined, opts: ChunkOptions): string[] {
  const bodies = chunkText(text, opts);
  if (!title) return bodies;
  if (bodies.length === 0) return [title];
  return bodies.map((b) => `${title}\n\n${b}`);
}

/** The chunk texts of a normalized body, without title. */
export function chunkText(text: string, { size, overlap }: ChunkOptions): string[] {
  if (!(Number.isInteger(size) && size >= 1))
    throw new RangeError(`chunk size must be a positive integer, not ${size}`);
  if (!(Number.isInteger(overlap) && overlap >= 0 && overlap < size)) {
    throw new RangeError(`chunk overlap must be an integer from 0 to ${size - 1}, not ${overlap}`);
  }
  const chunks: string[] = [];
  const n = text.length;
  let start = skipSpace(text, 0);
  let prevEnd = 0;
  while (start < n) {
    const end = chunkEnd(text, start, prevEnd, size);
    chunks.push(text.slice(start, end).trim());
    if (end >= n) break;
    start = nextStart(text, start, end, overlap);
    prevEnd = end;
  }
  return chunks.filter((c) => c !== '');
}

/** Where the chunk starting at `start` ends (exclusive); it must pass `prevEnd` to make progress. */
function chunkEnd(text: string, start: number, prevEnd: number, size: number): number {
  const limit = start + size;
  if (limit >= text.length) return text.length;
  const floor = Math.max(start + Math.ceil(size * MIN_FILL), prevEnd + 1);
  // A boundary exactly at `limit` is fine: the separator itself is not part of the chunk.
  const para = lastIndexIn(text, '\n\n', floor, limit);
  if (para >= 0) return para;
  const line = lastIndexIn(text, '\n', floor, limit);
  if (line >= 0) return line;
  const sentence = lastSentenceEnd(text, floor, limit);
  if (sentence >= 0) return sentence;
  // Below half full: still better to end at a structural boundary than inside a sentence.
  const lower = Math.max(start, prevEnd) + 1;
  const structural = Math.max(lastIndexIn(text, '\n', lower, floor - 1), lastSentenceEnd(text, lower, floor - 1));
  if (structural >= 0) return structural;
  const word = lastSpace(text, lower, limit);
  if (word >= 0) return word;
  // A word longer than the room left: hard cut, but never inside a surrogate pair.
  let cut = limit;
  if (isHighSurrogate(text.charCodeAt(cut - 1)) && cut - 1 > Math.max(start, prevEnd)) cut -= 1;
  return cut;
}

/** The last sentence end in [from, to], or -1. */
function lastSentenceEnd(text: string, from: number, to: number): number {
  if (from > to) return -1;
  const base = Math.max(0, from - 8);
  const re = new RegExp(SENTENCE_END.source, 'g');
  const slice = text.slice(base, to + 2);
  let best = -1;
  let m: RegExpExecArray | null;
  while ((m = re.exec(slice)) !== null) {
    const end = base + m.index + m[0].length;
    if (end >= from && end <= to) best = end;
  }
  return best;
}

/** The last index of `needle` in [from, to], or -1 (scans only that range). */
function lastIndexIn(text: string, needle: string, from: number, to: number): number {
  for (let i = to; i >= from; i--) {
    if (text.startsWith(needle, i)) return i;
  }
  return -1;
}

/** The last whitespace position in [from, to], or -1. */
function lastSpace(text: string, from: number, to: number): number {
  for (let i = Math.min(to, text.length - 1); i >= from; i--) {
    if (text[i] === ' ' || text[i] === '\n') return i;
  }
  return -1;
}

/** Start of the next chunk: the earliest sentence start, else word start, in [end - overlap, end). */
function nextStart(text: string, start: number, end: number, overlap: number): number {
  if (overlap > 0) {
    const from = Math.max(end - overlap, start + 1);
    const sentence = firstSentenceStart(text, from, end);
    if (sentence >= 0) return sentence;
    for (let i = from; i < end; i++) {
      if ((text[i - 1] === ' ' || text[i - 1] === '\n') && text[i] !== ' ' && text[i] !== '\n') return i;
    }
  }
  return skipSpace(text, end);
}

/** The first position in [from, to) that starts a sentence, line or paragraph, or -1. */
function firstSentenceStart(text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const c = text[i];
    if (c === ' ' || c === '\n') continue;
    const prev = text[i - 1];
    if (prev === '\n') return i;
    if (prev === ' ') {
      const before = text.slice(Math.max(0, i - 9), i);
      if (/[.!?\u2026]+["'\u201d\u2019)\]]* $/.test(before)) return i;
    }
  }
  return -1;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\n')) i++;
  return i;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
