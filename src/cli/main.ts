import { audit, build, check, demo, gc, gen, info, serve } from './commands.js';
import { clients } from './clients.js';
import { apply } from './apply.js';
import { UsageError } from './args.js';
import { ConfigError } from '../config.js';

const USAGE = `Usage: idv <command> [options]

  gen    --count N [--seed S] [--out FILE]           synthetic population as NDJSON
  build  (--input FILE | --synthetic N) --index DIR  build an index (NDJSON or CSV input)
         [--secret-file F] [--rejects FILE] [--seed S] [--threads N] [--unsealed] [--includes-changes N]
  serve  --index DIR [--host 127.0.0.1] [--port 8080] (--clients FILE | --demo) [--secret-file F]
         [--threads N] [--dispatch threads|pool|inline] [--max-inflight N] [--task-items N] [--audit-dir D] [--unprotected]
  demo   [--index DIR] [--count N] [serve options]    build a 1M demo index if absent, then serve
  check  --index DIR --input FILE [--secret-file F] [--rejects FILE]
                                                     report every source record the index holds otherwise
  apply  --index DIR (--input FILE | --log FILE) [--batch N] [--window N] [--secret-file F]
                                                     apply a file of changes (NDJSON, as POST /v1/records),
                                                     or replay another index's change log (a replica)
  info   --index DIR                                 what the served build was made from and holds
  gc     --index DIR                                 remove builds no running process reads
  audit  verify --index DIR [--audit-dir D] [--secret-file F]   check the audit trail's chain
  audit  query --id N --index DIR [--audit-dir D] [--secret-file F]   who checked this citizen
  clients add --file F --id NAME [--scopes verify,demographic,batch] [--rate N] [--burst N] [--daily-quota N]
              [--purposes a,b] [--consent-optional]
  clients list --file F | revoke --file F --id NAME | rotate --file F --id NAME
                                                     edit the clients file; add and rotate print the key once

--unsealed and --unprotected are for measurement only: an index built --unsealed keeps its
records readable without the secret and is served only --unprotected (no audit trail,
rate limits, quotas or probing limits); a sealed index is never served --unprotected.

Environment: IDV_SECRET_FILE, IDV_CLIENTS_FILE, IDV_HOST, IDV_PORT, IDV_AUDIT_DIR.
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = { gen, build, serve, demo, check, info, gc, audit, clients, apply };

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(USAGE);
    return name === undefined || name === '--help' || name === 'help' ? 0 : 2;
  }
  try {
    await command(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`idv ${name}: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    // Our own refusals carry a stable code (INDEX_LOCKED, BUILD_CHECK_FAILED), as system errors do.
    const code = (err as { code?: unknown }).code;
    const tag = typeof code === 'string' && !(err as Error).message.startsWith(code) ? ` [${code}]` : '';
    process.stderr.write(`idv ${name}: ${err instanceof ConfigError ? err.message : (err as Error).message}${tag}\n`);
    return 1;
  }
}
