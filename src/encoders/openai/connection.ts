/**
 * Where an OpenAI-compatible client connects and with which key: the
 * OPENAI_BASE_URL / OPENAI_API_KEY fallbacks users expect, and an SDK client
 * that keeps the key out of logs and inspection. Shared by the embeddings
 * encoder and the chat judge.
 */
import OpenAI from 'openai';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** Sent to custom servers that need no key (Ollama, LM Studio); the SDK insists on one. */
export const PLACEHOLDER_API_KEY = 'no-key';

export interface OpenAIConnection {
  /** Without trailing slashes. May carry credentials: never print it; print baseURLHost. */
  baseURL: string;
  /** host[:port] only: no scheme, path or credentials. */
  baseURLHost: string;
  /** api.openai.com */
  official: boolean;
  /** The key, or the placeholder for a custom server that needs none. */
  apiKey: string;
}

/**
 * Option first, then OPENAI_BASE_URL / OPENAI_API_KEY, then the official API.
 * Problems are pushed to `problems` (one line each, never the URL or the key).
 */
export function resolveOpenAIConnection(
  given: { baseURL?: string; apiKey?: string },
  env: Record<string, string | undefined>,
  problems: string[],
): OpenAIConnection {
  const rawBase = given.baseURL ?? (env.OPENAI_BASE_URL || undefined) ?? OPENAI_DEFAULT_BASE_URL;
  let baseURL = rawBase;
  let baseURLHost = '';
  try {
    const u = new URL(rawBase);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    baseURLHost = u.host;
    baseURL = rawBase.replace(/\/+$/, '');
  } catch {
    // Never echo the URL: it may carry credentials.
    problems.push(`baseURL: not an http(s) URL${given.baseURL === undefined ? ' (from OPENAI_BASE_URL)' : ''}`);
  }
  const official = baseURLHost === 'api.openai.com';

  const key = given.apiKey ?? env.OPENAI_API_KEY;
  let apiKey = key && key.trim() ? key.trim() : '';
  if (!apiKey) {
    if (official || !baseURLHost) {
      problems.push('apiKey: missing; set OPENAI_API_KEY (or pass apiKey) to use the OpenAI API');
    } else {
      apiKey = PLACEHOLDER_API_KEY;
    }
  }
  return { baseURL, baseURLHost, official, apiKey };
}

/** An SDK client without its own retries or console logging, whose key does not show when inspected. */
export function createOpenAIClient(conn: OpenAIConnection, timeoutMs: number, fetchImpl?: typeof fetch): OpenAI {
  const client = new OpenAI({
    apiKey: conn.apiKey,
    baseURL: conn.baseURL,
    maxRetries: 0,
    timeout: timeoutMs,
    logLevel: 'off', // we log ourselves; the SDK's console logger must not print request details
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  hideSecretFields(client);
  return client;
}

/** Make fields that hold the key non-enumerable, so inspecting the client does not print it. */
function hideSecretFields(client: OpenAI): void {
  for (const field of ['apiKey', '_options']) {
    if (Object.prototype.hasOwnProperty.call(client, field)) {
      Object.defineProperty(client, field, { enumerable: false });
    }
  }
}
