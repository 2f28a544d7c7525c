import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORDS = (
  'tent stove lantern kayak paddle jacket boots trail summit river canyon ridge forest meadow harbor ' +
  'battery charger cable warranty refund invoice shipping order account password privacy policy return ' +
  'camera lens tripod drone sensor firmware update error reset bluetooth speaker headphone'
).split(' ');

/**
 * A deterministic JSONL corpus for tests: `n` documents, every `dupEvery`-th
 * one repeating the text of document 0 (duplicates the backfill must embed once).
 */
export function writeCorpus(n: number, opts: { dupEvery?: number; prefix?: string; seed?: number } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'embctl-corpus-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'corpus.jsonl');
  let s = (opts.seed ?? 42) >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const lines: string[] = [];
  const text0 = sentence(rnd, 30);
  for (let i = 0; i < n; i++) {
    const dup = opts.dupEvery && i % opts.dupEvery === 0;
    lines.push(
      JSON.stringify({
        id: `${opts.prefix ?? 'doc'}-${i}`,
        text: dup ? text0 : `${sentence(rnd, 25)} ${i}`,
        metadata: { segment: ['products', 'support', 'invoices'][i % 3] },
      }),
    );
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

function sentence(rnd: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ') + '.';
}
