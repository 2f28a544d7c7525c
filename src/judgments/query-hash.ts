import { createHash } from 'node:crypto';

/** The hex sha256 of a query's text: how judgments find their query in any judged set or shadow log. */
export function querySha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
