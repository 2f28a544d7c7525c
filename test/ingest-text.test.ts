import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizeText,
  chunkText,
  chunkDocument,
  semanticKey,
  contentSha256,
  prepareDocument,
  globToRegExp,
  matchesGlob,
  markdownTitle,
} from '../src/ingest/index.js';
import { parseRecordLine } from '../src/ingest/records.js';

describe('normalizeText', () => {
  test('NFC, whitespace collapsed within lines, lines trimmed, paragraph breaks kept', () => {
    assert.equal(
      normalizeText('  Cafe\u0301  au\t lait \r\n\r\n\r\n second\u00a0 para  \n line two \u0000x '),
      'Caf\u00e9 au lait\n\nsecond para\nline two x',
    );
  });
  test('is idempotent and empty for blank text', () => {
    const once = normalizeText(' a \n\n\n\n b\tc \n');
    assert.equal(once, 'a\n\nb c');
    assert.equal(normalizeText(once), once);
    assert.equal(normalizeText(' \n \t\n'), '');
  });
});

describe('chunkText', () => {
  const text =
    'First sentence here. Second sentence is a bit longer. Third one!\n\nA new paragraph starts here. It has two sentences.';

  test('splits on paragraph, then sentence boundaries, with overlap at a word or sentence start', () => {
    assert.deepEqual(chunkText(text, { size: 60, overlap: 20 }), [
      'First sentence here. Second sentence is a bit longer.',
      'is a bit longer. Third one!\n\nA new paragraph starts here.',
      'starts here. It has two sentences.',
    ]);
    assert.deepEqual(chunkText(text, { size: 60, overlap: 0 }), [
      'First sentence here. Second sentence is a bit longer.',
      'Third one!\n\nA new paragraph starts here.',
      'It has two sentences.',
    ]);
  });

  test('prefers a paragraph break when the chunk is at least half full', () => {
    const t = `${'a '.repeat(20).trim()}\n\n${'b '.repeat(20).trim()}`; // two paragraphs of 39 chars
    assert.deepEqual(chunkText(t, { size: 60, overlap: 0 }), ['a '.repeat(20).trim(), 'b '.repeat(20).trim()]);
  });

  test('below half full, a paragraph or sentence boundary still beats a cut inside a sentence', () => {
    assert.deepEqual(
      chunkText('One sentence for chunk one. Another for two.\n\nThe third part is here.', { size: 40, overlap: 0 }),
      ['One sentence for chunk one.', 'Another for two.', 'The third part is here.'],
    );
  });

  test('never cuts inside a word unless the word is longer than the size', () => {
    const chunks = chunkText('short words then ' + 'x'.repeat(50) + ' end', { size: 20, overlap: 5 });
    assert.deepEqual(chunks, [
      'short words then',
      'then xxxxxxxxxxxxxxx',
      'xxxxxxxxxxxxxxxxxxxx',
      'xxxxxxxxxxxxxxx end',
    ]);
    const words = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
    for (const c of chunkText(words, { size: 50, overlap: 10 })) {
      assert.ok(c.length <= 50, c);
      for (const w of c.split(' ')) assert.match(w, /^w\d+$/, `cut word in ${JSON.stringify(c)}`);
    }
  });

  test('every chunk fits, the overlap stays within bounds, and the text is covered in order', () => {
    const t = normalizeText(
      Array.from({ length: 40 }, (_, i) => `Sentence number ${i} talks about topic ${i % 7}.`).join(' '),
    );
    const chunks = chunkText(t, { size: 200, overlap: 50 });
    assert.ok(chunks.length > 5);
    let pos = 0;
    for (const [i, c] of chunks.entries()) {
      assert.ok(c.length <= 200);
      const at = t.indexOf(c, i === 0 ? 0 : pos - 50);
      assert.ok(at >= 0 && at <= pos + 1, `chunk ${i} is not contiguous`);
      pos = at + c.length;
    }
    assert.equal(pos, t.length);
    assert.deepEqual(chunkText(t, { size: 200, overlap: 50 }), chunks, 'deterministic');
  });

  test('does not split a surrogate pair on a hard cut', () => {
    const chunks = chunkText('😀'.repeat(30), { size: 7, overlap: 0 });
    assert.equal(chunks.join(''), '😀'.repeat(30));
    for (const c of chunks) assert.ok(!/[\ud800-\udbff]$|^[\udc00-\udfff]/.test(c), JSON.stringify(c));
  });

  test('short text is one chunk; empty text none; bad options are refused', () => {
    assert.deepEqual(chunkText('Just this.', { size: 1000, overlap: 100 }), ['Just this.']);
    assert.deepEqual(chunkText('', { size: 1000, overlap: 100 }), []);
    assert.throws(() => chunkText('x', { size: 10, overlap: 10 }), /overlap/);
    assert.throws(() => chunkText('x', { size: 0, overlap: 0 }), /size/);
  });
});

describe('chunkDocument and keys', () => {
  test('the title is prepended to every chunk (semantic concatenation)', () => {
    assert.deepEqual(chunkDocument('Hello world.', 'My Title', { size: 100, overlap: 10 }), [
      'My Title\n\nHello world.',
    ]);
    const many = chunkDocument('One two three. Four five six.', 'T', { size: 15, overlap: 0 });
    assert.deepEqual(many, ['T\n\nOne two three.', 'T\n\nFour five six.']);
    assert.deepEqual(chunkDocument('', 'Only a title', { size: 100, overlap: 0 }), ['Only a title']);
  });

  test('semantic keys and content hashes are fixed (stable across runs and machines)', () => {
    assert.equal(
      semanticKey('doc-1', 0, 'My Title\n\nHello world.'),
      '5c7af42029a6b66d51416f8fb375b85ab0b62dcbe4884498a64f95840726ed66',
    );
    assert.equal(
      semanticKey('notes/é.md', 3, 'Ünïcode text'),
      'e3fd4e734b4608d0390c02e0d0e7cb176dde5a126983698f4e930f304823bd8b',
    );
    assert.equal(
      contentSha256('My Title\n\nHello world.').toString('hex'),
      '91c77256370c766be112a46c05134419f7d9666a75eb7a186025a0e0503f1960',
    );
    assert.equal(contentSha256('x').length, 32);
  });

  test('prepareDocument normalizes once before hashing (same text however it is spaced)', () => {
    const a = prepareDocument(
      { id: 'doc-1', title: '  My   Title ', text: 'Hello   world.\r\n', metadata: { b: 1, a: 2 } },
      { size: 1000, overlap: 100 },
    );
    const b = prepareDocument(
      { id: 'doc-1', title: 'My Title', text: 'Hello world.', metadata: { a: 2, b: 1 } },
      { size: 1000, overlap: 100 },
    );
    assert.deepEqual(a, b);
    assert.equal(a.chunks[0]!.key, '5c7af42029a6b66d51416f8fb375b85ab0b62dcbe4884498a64f95840726ed66');
    assert.equal(a.metadata, '{"a":2,"b":1}');
  });
});

describe('records', () => {
  test('JSONL and BEIR records, with every problem of a record named', () => {
    assert.deepEqual(parseRecordLine('{"id": 7, "content": "hi", "metadata": {"k": 1}}', 'jsonl'), {
      ok: true,
      doc: { id: '7', text: 'hi', title: undefined, metadata: { k: 1 } },
    });
    assert.deepEqual(parseRecordLine('{"_id": "a", "title": "T", "text": "t"}', 'beir'), {
      ok: true,
      doc: { id: 'a', text: 't', title: 'T', metadata: {} },
    });
    const bad = parseRecordLine('{"id": "x", "text": 3, "metadata": []}', 'jsonl');
    assert.equal(bad.ok, false);
    assert.equal(
      !bad.ok && bad.reason,
      '"text" must be a string, not a number; "metadata" must be an object, not an array',
    );
    const noId = parseRecordLine('{"_id": "x", "text": "t"}', 'jsonl');
    assert.equal(
      !noId.ok && noId.reason,
      'record without "id" (read as JSONL, whose records have "id"; use --format beir)',
    );
    const malformed = parseRecordLine('{"id": 1,', 'jsonl');
    assert.match(!malformed.ok ? malformed.reason : '', /^malformed JSON \(/);
  });
});

describe('markdownTitle', () => {
  test('the first level-1 heading outside code fences', () => {
    assert.deepEqual(markdownTitle('# Hello  World #\n\nBody'), { title: 'Hello  World', leading: true, end: 17 });
    assert.equal(markdownTitle('```\n# not a title\n```\n## h2\ntext')?.title, undefined);
    assert.deepEqual(markdownTitle('intro\n# Later'), { title: 'Later', leading: false, end: 13 });
  });
});

describe('globs', () => {
  test('*, **, ?, {a,b}, classes; patterns without / match the file name', () => {
    const cases: [string, string, boolean][] = [
      ['*.md', 'a.md', true],
      ['*.md', 'dir/sub/a.md', true],
      ['*.md', 'a.mdx', false],
      ['docs/*.md', 'docs/a.md', true],
      ['docs/*.md', 'docs/x/a.md', false],
      ['docs/**/*.md', 'docs/a.md', true],
      ['docs/**/*.md', 'docs/x/y/a.md', true],
      ['docs/**/*.md', 'other/a.md', false],
      ['**/drafts/**', 'a/drafts/b/c.md', true],
      ['**/drafts/**', 'drafts/c.md', true],
      ['drafts/**', 'drafts/', true],
      ['?.txt', 'a.txt', true],
      ['?.txt', 'ab.txt', false],
      ['*.{md,txt}', 'x/y.txt', true],
      ['*.{md,txt}', 'y.json', false],
      ['{a,b/{c,d}}/*.md', 'b/d/x.md', true],
      ['[ab]*.md', 'b1.md', true],
      ['[!ab]*.md', 'b1.md', false],
      ['.*', '.git', true],
      ['.*', 'x/.hidden', true],
      ['file(1).md', 'file(1).md', true],
      ['a+b.md', 'aab.md', false],
    ];
    for (const [pattern, path, expected] of cases)
      assert.equal(matchesGlob(path, pattern), expected, `${pattern} vs ${path}`);
    assert.ok(globToRegExp('*.md') instanceof RegExp);
  });
});
