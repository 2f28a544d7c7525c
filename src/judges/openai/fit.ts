/**
 * Fitting one pair's prompt into the judge's input token budget: the passage
 * is cut first, then (only when the query alone is too long) the query.
 * Prompt tokens are counted as OpenAI's cookbook does for chat: each message
 * costs its content's tokens plus 4 (role and separators), and the answer's
 * priming 3 more.
 */
import type { Tokenizer } from '../../encoders/index.js';
import { renderPrompt, type ChatMessage, type JudgePrompt } from './prompt.js';

const PER_MESSAGE = 4;
const PRIMING = 3;

export function promptTokens(messages: readonly ChatMessage[], tokenizer: Tokenizer): number {
  return messages.reduce((a, m) => a + tokenizer.count(m.content) + PER_MESSAGE, PRIMING);
}

export interface FittedPrompt {
  messages: ChatMessage[];
  /** Input tokens of the messages (estimated with the judge's tokenizer). */
  tokens: number;
  /** The passage or the query was cut. */
  truncated: boolean;
}

/** Tokens of the prompt around the query and the passage. */
export function promptOverhead(prompt: JudgePrompt, tokenizer: Tokenizer): number {
  return promptTokens(renderPrompt(prompt, '', ''), tokenizer);
}

export function fitPrompt(
  prompt: JudgePrompt,
  query: string,
  passage: string,
  maxTokens: number,
  tokenizer: Tokenizer,
): FittedPrompt {
  let messages = renderPrompt(prompt, query, passage);
  let tokens = promptTokens(messages, tokenizer);
  if (tokens <= maxTokens) return { messages, tokens, truncated: false };

  const available = Math.max(0, maxTokens - promptOverhead(prompt, tokenizer));
  let q = query.replace(/\s+/g, ' ').trim();
  const qTokens = tokenizer.count(q);
  let p = passage;
  if (qTokens >= available) {
    p = '';
    q = tokenizer.truncate(q, available).text;
  } else {
    p = tokenizer.truncate(p, available - qTokens).text;
  }
  messages = renderPrompt(prompt, q, p);
  tokens = promptTokens(messages, tokenizer);
  // Tokens are not quite additive across the joins: shave what is still over, passage first.
  for (let i = 0; i < 8 && tokens > maxTokens; i++) {
    const excess = tokens - maxTokens;
    if (p) p = tokenizer.truncate(p, Math.max(0, tokenizer.count(p) - excess)).text;
    else q = tokenizer.truncate(q, Math.max(0, tokenizer.count(q) - excess)).text;
    messages = renderPrompt(prompt, q, p);
    tokens = promptTokens(messages, tokenizer);
  }
  return { messages, tokens, truncated: true };
}
