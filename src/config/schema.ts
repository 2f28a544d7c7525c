import { z } from 'zod';

/**
 * The one configuration schema. Every key says where it can come from
 * (flag, environment variable); defaults live here and nowhere else.
 */
export const CONFIG_SOURCES = {
  databaseUrl: { env: 'DATABASE_URL', flag: '--database-url' },
  home: { env: 'EMBCTL_HOME', flag: '--home' },
  logLevel: { env: 'EMBCTL_LOG_LEVEL', flag: '--log-level' },
  actor: { env: 'EMBCTL_ACTOR', flag: '--actor' },
  pinVersion: { env: 'EMBCTL_PIN_VERSION', flag: undefined },
  poolSize: { env: 'EMBCTL_POOL_SIZE', flag: undefined },
  openaiApiKey: { env: 'OPENAI_API_KEY', flag: undefined },
  openaiBaseUrl: { env: 'OPENAI_BASE_URL', flag: undefined },
  serveToken: { env: 'EMBCTL_SERVE_TOKEN', flag: undefined },
} as const;

export type ConfigKey = keyof typeof CONFIG_SOURCES;

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

export const configSchema = z.object({
  databaseUrl: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .refine((s) => URL.canParse(s), 'is not a valid URL')
      .optional(),
  ),
  home: z.preprocess(emptyToUndefined, z.string().default('.embctl')),
  logLevel: z.preprocess(
    emptyToUndefined,
    // Unset: `warn` on a terminal (the command prints its own progress), `info` otherwise.
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  ),
  actor: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
  pinVersion: z.preprocess(emptyToUndefined, z.string().optional()),
  poolSize: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(200).default(10)),
  openaiApiKey: z.preprocess(emptyToUndefined, z.string().optional()),
  openaiBaseUrl: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((s) => URL.canParse(s), 'is not a valid URL')
      .optional(),
  ),
  serveToken: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
});

export type Config = z.infer<typeof configSchema> & {
  /** Absolute path of the embedded database folder. */
  homeDir: string;
  /** The user or service named in the audit trail. */
  actorName: string;
};
