import { formatTable } from '../util/index.js';

export { formatTable };
/** Where commands print: human text, or one JSON document with --json. */
export interface Output {
  readonly json: boolean;
  /** A human line (suppressed with --json). */
  line(text?: string): void;
  /** The machine result (printed only with --json). */
  result(value: unknown): void;
  /** A table of rows (human mode). */
  table(headers: string[], rows: (string | number)[][]): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout): Output {
  return {
    json,
    line(text = '') {
      if (!json) stdout.write(text + '\n');
    },
    result(value) {
      if (json) stdout.write(JSON.stringify(value, jsonReplacer, 2) + '\n');
    },
    table(headers, rows) {
      if (json) return;
      stdout.write(formatTable(headers, rows) + '\n');
    },
  };
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value instanceof Float32Array) return Array.from(value);
  return value;
}
