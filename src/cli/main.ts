import { Command, CommanderError, Option } from 'commander';
import { isEmbctlError } from '../errors.js';
import { standbyInfo } from '../db/index.js';
import { scrubSecrets } from '../log/index.js';
import { CliContext } from './context.js';
import { exitCodeOf } from './exit-codes.js';
import { registerCommands } from './commands/index.js';
import { isReadOnlyError, standbyWriteRefusal } from './standby-guard.js';
import { favourMemory, STREAMING_COMMANDS } from './memory-mode.js';

/**
 * The command line: parses arguments, runs one command module, and is the
 * only place that turns errors into messages and exit codes (by their code:
 * exit-codes.ts; 0 ok, 1 refused, failed gate or unavailable, 2 bad usage,
 * bad input or an unknown name, 130 interrupted).
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = new Command('embctl');
  const ctx = new CliContext(program, env);
  program
    .description('versioned embedding control plane for PostgreSQL + pgvector')
    .version(VERSION, '-V', 'print the embctl version')
    .option('--json', 'print machine-readable JSON on stdout')
    .addOption(
      new Option('--database-url <url>', 'PostgreSQL server (default: $DATABASE_URL; embedded PGlite when unset)'),
    )
    .addOption(new Option('--home <dir>', 'embedded database folder (default: $EMBCTL_HOME or ./.embctl)'))
    .addOption(new Option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default: info)'))
    .addOption(
      new Option('--actor <name>', 'who is acting, for the audit trail (default: $EMBCTL_ACTOR or the OS user)'),
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .hook('preAction', (_program, command) => {
      if (STREAMING_COMMANDS.has(command.name())) favourMemory();
    });
  registerCommands(program, ctx);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return reportError(await explainReadOnly(e, ctx), ctx);
  } finally {
    await ctx.close().catch(() => {});
  }
}

/**
 * A write that reached a hot standby without being refused up front (a
 * command that does not ask first) failed with "read-only transaction":
 * say what the database is and where its primary is instead.
 */
async function explainReadOnly(e: unknown, ctx: CliContext): Promise<unknown> {
  if (isEmbctlError(e) || !isReadOnlyError(e)) return e;
  try {
    const info = await standbyInfo((await ctx.db()).kysely);
    if (info.standby) return standbyWriteRefusal(info, 'write');
  } catch {
    // the database went away meanwhile: report the first error
  }
  return e;
}

function reportError(e: unknown, ctx: CliContext): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return 2; // commander already printed the message
  }
  const secrets = [ctx.env.OPENAI_API_KEY ?? '', ctx.env.EMBCTL_SERVE_TOKEN ?? '', ...ctx.secrets()];
  if (isEmbctlError(e)) {
    process.stderr.write(`embctl: ${scrubSecrets(e.message, secrets)}\n`);
    for (const d of e.details) process.stderr.write(`  ${scrubSecrets(d, secrets)}\n`);
    return exitCodeOf(e);
  }
  const err = e as Error;
  process.stderr.write(`embctl: unexpected error: ${scrubSecrets(err?.message ?? String(e), secrets)}\n`);
  if (ctx.env.EMBCTL_DEBUG) process.stderr.write(scrubSecrets(err?.stack ?? '', secrets) + '\n');
  else process.stderr.write('  (set EMBCTL_DEBUG=1 for a stack trace)\n');
  return 1;
}

const VERSION = '0.1.0';
