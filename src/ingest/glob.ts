/**
 * A small glob matcher for include/exclude (Node 20 has no stable fs.glob;
 * `path.matchesGlob` is experimental there). Paths are relative, with `/`.
 *  - `*` any characters but `/`; `?` one character but `/`;
 *  - `**` as a whole segment: any number of segments (`a/**` also matches `a`'s contents at any depth);
 *  - `{a,b}` alternatives (nestable); `[abc]`, `[a-z]`, `[!a]` character classes;
 *  - a pattern without `/` is matched against the last path segment (like .gitignore).
 */
export type GlobMatcher = (relPath: string) => boolean;

export function compileGlobs(patterns: readonly string[]): GlobMatcher {
  const res = patterns.map(globToRegExp);
  return (p) => res.some((re) => re.test(p));
}

export function matchesGlob(relPath: string, pattern: string): boolean {
  return globToRegExp(pattern).test(relPath);
}

export function globToRegExp(pattern: string): RegExp {
  let p = pattern.replace(/\\/g, '/').replace(/^\.\//, '');
  const anchored = p.includes('/');
  if (p.startsWith('/')) p = p.slice(1);
  if (p.endsWith('/')) p = p.slice(0, -1);
  const body = translate(p);
  return new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`, 'u');
}

function translate(p: string): string {
  let out = '';
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        const atStart = i === 0 || p[i - 1] === '/';
        const atEnd = i + 2 === p.length || p[i + 2] === '/';
        if (atStart && atEnd) {
          if (i + 2 === p.length) {
            out += '.*'; // `a/**`: everything below a
            i += 2;
          } else {
            out += '(?:[^/]*/)*'; // `**/`: zero or more folders
            i += 3;
          }
          continue;
        }
      }
      out += '[^/]*';
      i += 1;
    } else if (c === '?') {
      out += '[^/]';
      i += 1;
    } else if (c === '{') {
      const close = matchingBrace(p, i);
      if (close < 0) {
        out += '\\{';
        i += 1;
        continue;
      }
      const alts = splitTopLevel(p.slice(i + 1, close));
      out += `(?:${alts.map(translate).join('|')})`;
      i = close + 1;
    } else if (c === '[') {
      const close = p.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        i += 1;
        continue;
      }
      let cls = p.slice(i + 1, close);
      const negate = cls.startsWith('!') || cls.startsWith('^');
      if (negate) cls = cls.slice(1);
      cls = cls.replace(/[\\\]^]/g, '\\$&');
      out += negate ? `[^/${cls}]` : `[${cls}]`;
      i = close + 1;
    } else {
      out += c.replace(/[.+^$()|\\/{}[\]]/g, '\\$&');
      i += 1;
    }
  }
  return out;
}

function matchingBrace(p: string, open: number): number {
  let depth = 0;
  for (let i = open; i < p.length; i++) {
    if (p[i] === '{') depth++;
    else if (p[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}
