/**
 * The one text normalization, applied before chunking and hashing:
 * Unicode NFC, CRLF/CR to LF, control characters dropped, whitespace runs
 * inside a line collapsed to one space, lines trimmed, runs of blank lines
 * reduced to one paragraph break (`\n\n`), the whole trimmed.
 */
export function normalizeText(text: string): string {
  const lines = text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    // C0/C1 controls other than tab and newline (NUL cannot be stored in PostgreSQL text).
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, ' ')
    .replace(/[\u2028\u2029]/g, '\n')
    .split('\n');
  const out: string[] = [];
  let blank = false;
  for (const raw of lines) {
    const line = raw.replace(/[^\S\n]+/g, ' ').trim();
    if (line === '') {
      blank = out.length > 0;
      continue;
    }
    if (blank) out.push('');
    blank = false;
    out.push(line);
  }
  return out.join('\n');
}

/** A title on one line: every whitespace run (newlines included) becomes one space. */
export function normalizeTitle(title: string): string {
  return normalizeText(title).replace(/\s+/g, ' ');
}
