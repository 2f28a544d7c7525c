import { createReadStream } from 'node:fs';
import { INGEST_LIMITS } from './limits.js';

/** One line of an input: its 1-based number and its text, or why it is not UTF-8. */
export type Line = { no: number; text: string; error?: undefined } | { no: number; text?: undefined; error: string };

/**
 * The lines of a file, read as a stream (memory holds one line at a time).
 * Lines are split on LF bytes and decoded one by one with a fatal UTF-8
 * decoder, so an invalid byte is reported with its line instead of being
 * silently replaced (readline would turn it into U+FFFD). A BOM is dropped.
 * A line over `maxBytes` is reported as an error, not held in memory.
 */
export async function* readLines(
  input: string | NodeJS.ReadableStream,
  maxBytes: number = INGEST_LIMITS.lineBytes,
): AsyncGenerator<Line> {
  const stream = typeof input === 'string' ? createReadStream(input) : input;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let pending: Buffer[] = [];
  let no = 0;
  const emit = (bytes: Buffer): Line => {
    no += 1;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end -= 1;
    try {
      // ignoreBOM: false strips a leading BOM on every decode call; only line 1 can have one in practice.
      return { no, text: decoder.decode(bytes.subarray(0, end)) };
    } catch {
      return { no, error: 'not valid UTF-8' };
    }
  };
  let pendingBytes = 0;
  /** Bytes of the current line are being skipped: it is over the limit. */
  let tooLong = false;
  const tooLongLine = (): Line => {
    no += 1;
    return {
      no,
      error: `the line is longer than ${maxBytes / 1024 / 1024} MiB: split the record or keep its large parts elsewhere`,
    };
  };
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let nl = buf.indexOf(0x0a);
    while (nl >= 0) {
      const head = buf.subarray(0, nl);
      if (tooLong || pendingBytes + head.length > maxBytes) yield tooLongLine();
      else yield emit(pending.length ? Buffer.concat([...pending, head]) : head);
      pending = [];
      pendingBytes = 0;
      tooLong = false;
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(0x0a);
    }
    if (buf.length && !tooLong) {
      pending.push(buf);
      pendingBytes += buf.length;
      if (pendingBytes > maxBytes) {
        tooLong = true; // memory holds at most maxBytes of one line
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (tooLong) yield tooLongLine();
  else if (pending.length) yield emit(Buffer.concat(pending));
}

/** Decode a whole file's bytes; on invalid UTF-8, the 1-based line of the first bad byte. */
export function decodeUtf8(bytes: Uint8Array): { text: string } | { badLine: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          decoder.decode(bytes.subarray(start, i));
        } catch {
          return { badLine: line };
        }
        line += 1;
        start = i + 1;
      }
    }
    return { badLine: 1 };
  }
}
