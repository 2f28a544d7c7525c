/**
 * One interface for every embedding provider (README "Encoders"; ARCHITECTURE.md, encoders/).
 * A provider is chosen by a spec string such as `openai:text-embedding-3-small`,
 * `local:./models/minilm` or `hash:words-384`.
 */

/** What makes two encoders produce the same vector for the same text. */
export interface EncoderIdentity {
  /** Provider-qualified name, e.g. `openai:text-embedding-3-small`. */
  name: string;
  /** Model revision: a hash of the model files (local), a fixed version tag (hash), or the model id (openai). */
  revision: string;
  /** Every setting that changes the output (dimensions, pooling, ...). Never secrets. */
  settings: Record<string, string | number | boolean | null>;
}

/** Things a provider reports while it works, so callers can adapt (quota, progress). */
export type EncoderEvent =
  | { type: 'request'; items: number; tokens: number }
  | { type: 'response'; items: number; tokens: number; ms: number }
  | { type: 'rate_limited'; retryAfterMs: number | null; attempt: number }
  | { type: 'retry'; reason: string; delayMs: number; attempt: number };

export interface EmbedOptions {
  signal?: AbortSignal;
  onEvent?: (event: EncoderEvent) => void;
  /** A label for errors and logs, e.g. `batch 17`. */
  label?: string;
}

export interface Encoder {
  /** The spec string this encoder was made from. */
  readonly spec: string;
  readonly identity: EncoderIdentity;
  /** Output dimensions, if known before the first call (declared or fixed). */
  readonly dimensions: number | undefined;
  /** True when every output vector has unit L2 norm (needed for `ip`). */
  readonly normalized: boolean;
  /** Most texts one `embed` call may carry. */
  readonly maxBatchItems: number;
  /** Most tokens one `embed` call may carry (sum of countTokens). */
  readonly maxBatchTokens: number;
  /**
   * The model name the provider reported in its latest answer (OpenAI: the
   * response's `model`), when it reports one: what the encoder canary records.
   */
  readonly reportedModel?: string;
  /** Tokens this text costs with this encoder's tokenizer. */
  countTokens(text: string): number;
  /**
   * Embed texts, one vector per text, in order. Implementations validate
   * what they return (count, dimensions, finite numbers) and throw rather
   * than return a bad vector.
   */
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
  /** Release resources (sessions, sockets). Safe to call twice. */
  close?(): Promise<void>;
}
