/**
 * A small XML 1.0 well-formedness check for tests: one root, balanced and
 * properly nested tags, quoted attributes without raw `<`, and no bare `&`
 * or `<` in text. Returns the problems found (empty when well-formed).
 */
export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  let s = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  const entity = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkText = (t: string, where: string) => {
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '<') problems.push(`raw < in ${where}`);
      if (t[i] === '&') {
        entity.lastIndex = i;
        if (!entity.test(t)) problems.push(`bare & in ${where}: ${t.slice(i, i + 12)}`);
      }
    }
  };
  while (s.length) {
    const lt = s.indexOf('<');
    if (lt < 0) {
      if (s.trim()) problems.push('text after the root element');
      break;
    }
    const text = s.slice(0, lt);
    if (stack.length === 0 && text.trim()) problems.push('text outside the root element');
    checkText(text, 'text');
    s = s.slice(lt);
    if (s.startsWith('<!--')) {
      const end = s.indexOf('-->');
      if (end < 0) return [...problems, 'unterminated comment'];
      s = s.slice(end + 3);
      continue;
    }
    const m = /^<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(s);
    if (!m) return [...problems, `malformed tag near: ${s.slice(0, 40)}`];
    const [whole, close, name, attrs, selfClose] = m as unknown as [string, string, string, string, string];
    for (const a of attrs.matchAll(/=\s*(?:"([^"]*)"|'([^']*)')/g))
      checkText(a[1] ?? a[2] ?? '', `attribute of <${name}>`);
    if (close) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
    s = s.slice(whole.length);
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`expected one root element, found ${roots}`);
  return problems;
}
