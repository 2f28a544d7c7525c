import { InputError } from '../errors.js';

/** A metadata filter: a JSON object a chunk's metadata must contain (`metadata @> filter`). */
export type MetadataFilter = Record<string, unknown>;

const KEY = /^[^\s=:][^=]*$/;

/**
 * Parse `--filter` arguments into one containment object:
 *  - `key=value` matches the string value (`{"key": "value"}`);
 *  - `key:=<json>` matches a JSON value (`year:=2020`, `draft:=false`, `tags:=["a"]`).
 * Repeating a key is refused (a chunk cannot hold two values under one key;
 * for arrays use `key:=[...]`). Every problem is reported at once.
 */
export function parseFilters(args: readonly string[]): MetadataFilter {
  const out: MetadataFilter = {};
  const problems: string[] = [];
  for (const arg of args) {
    const typed = /^([^=]+?):=(.*)$/s.exec(arg);
    const plain = typed ? null : /^([^=]+)=(.*)$/s.exec(arg);
    const m = typed ?? plain;
    if (!m || !KEY.test(m[1]!)) {
      problems.push(`--filter "${arg}": expected key=value or key:=<json>`);
      continue;
    }
    const key = m[1]!;
    let value: unknown = m[2]!;
    if (typed) {
      try {
        value = JSON.parse(m[2]!);
      } catch {
        problems.push(
          `--filter "${arg}": the value after := is not JSON (quote strings: key:='"text"', or use key=text)`,
        );
        continue;
      }
    }
    if (key in out) {
      problems.push(`--filter "${arg}": key "${key}" given twice`);
      continue;
    }
    out[key] = value;
  }
  if (problems.length)
    throw new InputError(
      problems.length === 1 ? problems[0]! : `invalid --filter (${problems.length} problems)`,
      problems.length > 1 ? problems : [],
    );
  return out;
}

/** Check a library caller's filter: a plain JSON object. */
export function checkFilter(filter: unknown): MetadataFilter | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter !== 'object' || Array.isArray(filter))
    throw new InputError('filters must be a JSON object of metadata key/values');
  return Object.keys(filter).length ? (filter as MetadataFilter) : undefined;
}
