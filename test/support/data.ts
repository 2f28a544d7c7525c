import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the tests find reference data.
 *
 * trec_eval's own test files are redistributable and live in the repo
 * (test/fixtures/trec_eval/, see its README), so trec_eval parity is checked
 * on every clone.
 *
 * BEIR SciFact is CC BY-NC and is never copied into the repo: it is found
 * through EMBCTL_SCIFACT_DIR only (CI sets it). Without it, the tests that need it are skipped, and say why.
 */
export const TREC_EVAL_DIR = fileURLToPath(new URL('../fixtures/trec_eval/', import.meta.url));

const SCIFACT_FILES = ['corpus.jsonl', 'queries.jsonl', 'qrels/test.tsv'];

function locateScifact(): { dir: string } | { missing: string } {
  const fromEnv = process.env.EMBCTL_SCIFACT_DIR;
  if (fromEnv) {
    const dir = resolve(fromEnv);
    const absent = SCIFACT_FILES.filter((f) => !existsSync(resolve(dir, f)));
    if (absent.length)
      throw new Error(`EMBCTL_SCIFACT_DIR=${fromEnv} lacks ${absent.join(', ')}: point it at a BEIR SciFact folder`);
    return { dir };
  }
  return {
    missing:
      'BEIR SciFact is not in the repo (CC BY-NC): set EMBCTL_SCIFACT_DIR to a BEIR SciFact folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) to run it',
  };
}

const located = locateScifact();

/** The SciFact folder, or '' when it is not available (then SCIFACT_SKIP says why). */
export const SCIFACT_DIR: string = 'dir' in located ? located.dir : '';
/** `skip` option for tests that need SciFact: false when it is available, else the reason. */
export const SCIFACT_SKIP: false | string = 'dir' in located ? false : located.missing;
