/**
 * What we know about OpenAI's embedding models. Anything else is served by an
 * OpenAI-compatible server (Ollama, vLLM, TEI, LM Studio) and is unknown
 * until told or seen.
 */
export interface KnownModel {
  /** Output dimensions without the `dimensions` parameter. */
  dimensions: number;
  /** Most tokens one input may carry. */
  maxInputTokens: number;
  /** Accepts the `dimensions` parameter (Matryoshka shortening). */
  supportsDimensions: boolean;
  /** tiktoken encoding of the model. */
  encoding: 'cl100k_base';
}

/** Source: OpenAI embeddings guide; tiktoken's model table maps all three to cl100k_base. */
export const OPENAI_MODELS: Readonly<Record<string, KnownModel>> = {
  'text-embedding-3-small': {
    dimensions: 1536,
    maxInputTokens: 8191,
    supportsDimensions: true,
    encoding: 'cl100k_base',
  },
  'text-embedding-3-large': {
    dimensions: 3072,
    maxInputTokens: 8191,
    supportsDimensions: true,
    encoding: 'cl100k_base',
  },
  'text-embedding-ada-002': {
    dimensions: 1536,
    maxInputTokens: 8191,
    supportsDimensions: false,
    encoding: 'cl100k_base',
  },
};

/** OpenAI: at most 2048 inputs per request. */
export const OPENAI_MAX_BATCH_ITEMS = 2048;
/** OpenAI: at most 300,000 tokens summed over the inputs of one request. */
export const OPENAI_MAX_BATCH_TOKENS = 300_000;

export function knownModel(model: string): KnownModel | undefined {
  return Object.prototype.hasOwnProperty.call(OPENAI_MODELS, model) ? OPENAI_MODELS[model] : undefined;
}
