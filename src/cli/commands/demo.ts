import type { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase } from '../../db/index.js';
import { createLogger } from '../../log/index.js';
import { DEFAULT_DEMO_ENCODERS, runDemo } from '../../demo/index.js';
import type { CliContext } from '../context.js';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('watch a whole model upgrade on a fresh embedded database (no network, no API key)')
    .option('--v1 <spec>', 'encoder of v1, the version in production', DEFAULT_DEMO_ENCODERS.v1)
    .option('--v2 <spec>', 'encoder of v2, the candidate', DEFAULT_DEMO_ENCODERS.v2)
    .option('--v3 <spec>', 'encoder of v3, the bad candidate', DEFAULT_DEMO_ENCODERS.v3)
    .addHelpText(
      'after',
      `
Examples:
  $ npm run demo
  $ embctl --home ./demo-db demo     # keep the demo database (a fresh folder is best)
  $ embctl demo --v2 hash:words-32     # a weak candidate: watch its gate fail`,
    )
    .action(async (f: { v1: string; v2: string; v3: string }) => {
      // The global --home names the folder; by default the demo never touches ./.embctl.
      const given = ctx.globals.home;
      const home = resolve(given ?? mkdtempSync(join(tmpdir(), 'embctl-demo-')));
      const say = (line = '') => ctx.out.line(line);
      // The demo tells its own story: structured logs only when asked for (EMBCTL_LOG_LEVEL).
      const logger = createLogger({ level: ctx.config.logLevel ?? 'warn' });
      say('embctl demo: moving search from one embedding model to another, on the embedded database');
      say(`data folder ${home}`);
      const db = await openDatabase({ homeDir: home, logger });
      try {
        const r = await runDemo(db, {
          home,
          logger,
          actor: ctx.config.actorName,
          encoders: { v1: f.v1, v2: f.v2, v3: f.v3 },
          say,
        });
        ctx.out.result({ home, ...r });
        say();
        say(`Upgrade report: ${r.reportPath}`);
        say(
          `Done in ${r.seconds.toFixed(1)}s. The same loop on your own PostgreSQL with an OpenAI (or OpenAI-compatible) model:`,
        );
        say(
          '  export DATABASE_URL=postgresql://user:pass@host/db OPENAI_API_KEY=sk-...   # OPENAI_BASE_URL for Ollama, vLLM, TEI',
        );
        say(
          '  npx embctl migrate && npx embctl ingest ./docs && npx embctl versions register v2 --encoder openai:text-embedding-3-small',
        );
        say('  npx embctl backfill v2 && npx embctl evaluate --version v2 --gate && npx embctl activate v2');
      } finally {
        await db.close();
      }
    });
}
