/**
 * Which of the texts given to `embed()` a bad output belongs to, when the
 * encoder knows (a NaN in the vector of text 3, say). Carried on the error as
 * `textIndex`, so that the backfill can name the chunk and the version.
 */
export function withTextIndex<E extends Error>(error: E, textIndex: number | undefined): E {
  if (textIndex !== undefined) Object.defineProperty(error, 'textIndex', { value: textIndex, enumerable: false });
  return error;
}

export function textIndexOf(error: unknown): number | undefined {
  const i = (error as { textIndex?: unknown } | null)?.textIndex;
  return typeof i === 'number' && Number.isInteger(i) && i >= 0 ? i : undefined;
}
