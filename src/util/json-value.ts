/**
 * Checks on a JSON value before it goes to PostgreSQL as jsonb or text:
 * jsonb stores neither NUL nor an unpaired UTF-16 surrogate (it rejects the
 * escape), and a value nested deeper than a few hundred levels overflows
 * stacks (ours in JSON.stringify, the server's in its parser). The walk is
 * iterative, so any depth is safe to check.
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A string that is not valid Unicode (it cannot be encoded as UTF-8). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/** Why a string cannot be stored, or undefined. */
export function textProblem(s: string): 'a NUL character' | 'an unpaired UTF-16 surrogate escape' | undefined {
  if (s.includes('\u0000')) return 'a NUL character';
  if (hasLoneSurrogate(s)) return 'an unpaired UTF-16 surrogate escape';
  return undefined;
}

/**
 * The first reason `value` (named `label`, e.g. "metadata") cannot be
 * stored as jsonb, as text for a message, or undefined.
 */
export function jsonValueProblem(value: unknown, label: string, maxDepth: number): string | undefined {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 1, path: label }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      const p = textProblem(v);
      if (p)
        return `${JSON.stringify(label)} contains ${p} (at ${shortPath(path)}), which PostgreSQL cannot store: remove it`;
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    if (depth > maxDepth)
      return `${JSON.stringify(label)} is nested deeper than ${maxDepth} levels (at ${shortPath(path)}): flatten it`;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1, path: `${path}[${i}]` });
    } else {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const p = textProblem(k);
        if (p)
          return `${JSON.stringify(label)} contains ${p} in a key (at ${shortPath(path)}), which PostgreSQL cannot store: remove it`;
        stack.push({ v: x, depth: depth + 1, path: `${path}.${k}` });
      }
    }
  }
  return undefined;
}

function shortPath(path: string): string {
  return path.length > 80 ? `${path.slice(0, 40)}…${path.slice(-30)}` : path;
}
