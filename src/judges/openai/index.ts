export { ANSWER_MAX_TOKENS, JUDGE_TEMPERATURE, createOpenAIJudge, type OpenAIJudgeOptions } from './judge.js';
export { CHAT_MODEL_PRICES, OUTPUT_TOKENS_PER_PAIR, knownPricing } from './models.js';
export { PROMPT_VERSION, UMBRELA_PROMPT, promptSha256, renderPrompt, type JudgePrompt } from './prompt.js';
export { parseAnswer } from './answer.js';
