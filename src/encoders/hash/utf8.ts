/**
 * A UTF-8 encoder into a reusable buffer that also records where each code
 * point starts, so character n-grams can be hashed as byte ranges without
 * allocating a string per n-gram.
 */
export class Utf8Scratch {
  bytes = new Uint8Array(256);
  /** starts[i] = byte offset of code point i; starts[count] = total bytes. */
  starts = new Int32Array(65);
  count = 0;

  /** Encode `prefix`, then `text`, then `suffix` (code points, each < 0x80). */
  encode(text: string, prefix: number, suffix: number): void {
    if (this.bytes.length < text.length * 3 + 2) this.bytes = new Uint8Array(text.length * 3 + 16);
    if (this.starts.length < text.length + 3) this.starts = new Int32Array(text.length + 8);
    const bytes = this.bytes;
    const starts = this.starts;
    let b = 0;
    let n = 0;
    starts[n++] = b;
    bytes[b++] = prefix;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      starts[n++] = b;
      if (c < 0x80) {
        bytes[b++] = c;
      } else if (c < 0x800) {
        bytes[b++] = 0xc0 | (c >> 6);
        bytes[b++] = 0x80 | (c & 63);
      } else {
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
          const d = text.charCodeAt(i + 1);
          if (d >= 0xdc00 && d < 0xe000) {
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            i++;
            bytes[b++] = 0xf0 | (c >> 18);
            bytes[b++] = 0x80 | ((c >> 12) & 63);
            bytes[b++] = 0x80 | ((c >> 6) & 63);
            bytes[b++] = 0x80 | (c & 63);
            continue;
          }
        }
        // Lone surrogates are encoded as U+FFFD, like TextEncoder.
        if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
        bytes[b++] = 0xe0 | (c >> 12);
        bytes[b++] = 0x80 | ((c >> 6) & 63);
        bytes[b++] = 0x80 | (c & 63);
      }
    }
    starts[n++] = b;
    bytes[b++] = suffix;
    starts[n] = b;
    this.count = n;
  }
}
