import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { parseEnv } from 'node:util';
import { InputError } from '../errors.js';
import { CONFIG_SOURCES, configSchema, type Config, type ConfigKey } from './schema.js';

export interface ConfigInput {
  /** Values from command-line flags (highest precedence). */
  flags?: Partial<Record<ConfigKey, string | undefined>>;
  /** The environment (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Folder whose `.env` is read (defaults to the working directory); false to skip. */
  dotenvDir?: string | false;
  cwd?: string;
}

/**
 * Parse the configuration once, at the edge: flags, then environment, then
 * `.env`, then defaults. Every problem is reported as `SOURCE: message`.
 */
export function loadConfig(input: ConfigInput = {}): Config {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const dotenv = input.dotenvDir === false ? {} : readDotenv(resolve(cwd, input.dotenvDir ?? '.', '.env'));

  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [key, src] of Object.entries(CONFIG_SOURCES) as [ConfigKey, (typeof CONFIG_SOURCES)[ConfigKey]][]) {
    const flag = input.flags?.[key];
    if (flag !== undefined && src.flag) {
      raw[key] = flag;
      origin[key] = src.flag;
    } else if (env[src.env] !== undefined) {
      raw[key] = env[src.env];
      origin[key] = src.env;
    } else if (dotenv[src.env] !== undefined) {
      raw[key] = dotenv[src.env];
      origin[key] = `${src.env} (.env)`;
    }
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const where = origin[key] ?? CONFIG_SOURCES[key as ConfigKey]?.env ?? key;
      return `${where}: ${issue.message}`;
    });
    throw new InputError(
      problems.length === 1
        ? `invalid configuration: ${problems[0]}`
        : `invalid configuration (${problems.length} problems)`,
      problems.length === 1 ? [] : problems,
    );
  }
  const cfg = parsed.data;
  return {
    ...cfg,
    homeDir: resolve(cwd, cfg.home),
    actorName: cfg.actor ?? safeUsername(),
  };
}

function readDotenv(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  return parseEnv(text) as Record<string, string>;
}

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
