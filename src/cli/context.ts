import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import type { Config, ConfigKey } from '../config/index.js';
import { openDatabase, type Db } from '../db/index.js';
import { createLogger, type Logger } from '../log/index.js';
import { createOutput, type Output } from './output.js';
import { secretsOfUrl } from '../db/index.js';
import type { EncoderDeps } from '../encoders/index.js';
import { refuseStandby } from './standby-guard.js';

/**
 * What every command gets: the configuration (parsed once), a logger, the
 * output, and the database opened on first use and closed at the end.
 */
export class CliContext {
  readonly #program: Command;
  #config: Config | undefined;
  #logger: Logger | undefined;
  #db: Promise<Db> | undefined;
  #out: Output | undefined;
  readonly env: NodeJS.ProcessEnv;

  constructor(program: Command, env: NodeJS.ProcessEnv = process.env) {
    this.#program = program;
    this.env = env;
  }

  get globals(): { json?: boolean; databaseUrl?: string; home?: string; logLevel?: string; actor?: string } {
    return this.#program.opts();
  }

  get config(): Config {
    if (!this.#config) {
      const g = this.globals;
      const flags: Partial<Record<ConfigKey, string | undefined>> = {
        databaseUrl: g.databaseUrl,
        home: g.home,
        logLevel: g.logLevel,
        actor: g.actor,
      };
      this.#config = loadConfig({ flags, env: this.env });
    }
    return this.#config;
  }

  get logger(): Logger {
    if (!this.#logger) {
      this.#logger = createLogger({ level: this.config.logLevel ?? (process.stderr.isTTY ? 'warn' : 'info') });
    }
    return this.#logger;
  }

  get out(): Output {
    if (!this.#out) this.#out = createOutput(Boolean(this.globals.json));
    return this.#out;
  }

  db(): Promise<Db> {
    if (!this.#db) {
      const c = this.config;
      this.#db = openDatabase({
        databaseUrl: c.databaseUrl,
        homeDir: c.homeDir,
        poolSize: c.poolSize,
        logger: this.logger,
      });
    }
    return this.#db;
  }

  /**
   * The database, for a command that writes: a hot standby is refused up
   * front, naming its primary. `action` says what was refused ("activate v2").
   */
  async writableDb(action: string): Promise<Db> {
    const db = await this.db();
    await refuseStandby(db, action);
    return db;
  }

  /**
   * What encoders need from the configuration and the environment (API key,
   * base URL, env, logger), plus the actor for the audit trail: the one place
   * every command that embeds gets it from.
   */
  encoderDeps(): EncoderDeps & { logger: Logger; actor: string } {
    const c = this.config;
    return {
      logger: this.logger,
      actor: c.actorName,
      openaiApiKey: c.openaiApiKey,
      openaiBaseUrl: c.openaiBaseUrl,
      env: this.env,
    };
  }

  /** Secrets of the configuration (from env or .env), for scrubbing messages; empty if it cannot be read. */
  secrets(): string[] {
    try {
      const c = this.config;
      return [c.openaiApiKey ?? '', c.serveToken ?? '', ...(c.databaseUrl ? secretsOfUrl(c.databaseUrl) : [])].filter(
        Boolean,
      );
    } catch {
      return [];
    }
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    if (db) await (await db.catch(() => undefined))?.close();
  }
}
