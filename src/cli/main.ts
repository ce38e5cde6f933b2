import { CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { UsageError } from './args.js';
import { program } from './program.js';

/** Runs `idv` with these arguments: 0 done, 1 failed, 2 a usage error (commander's own included). */
export async function main(argv: string[]): Promise<number> {
  const idv = program();
  if (argv.length === 0) {
    idv.outputHelp({ error: true });
    return 0;
  }
  try {
    await idv.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const name = argv[0];
    if (err instanceof UsageError) {
      process.stderr.write(`idv ${name}: ${err.message}\n\n`);
      idv.commands.find((c) => c.name() === name)?.outputHelp({ error: true });
      return 2;
    }
    // Our own refusals carry a stable code (INDEX_LOCKED, BUILD_CHECK_FAILED), as system errors do.
    const code = (err as { code?: unknown }).code;
    const tag = typeof code === 'string' && !(err as Error).message.startsWith(code) ? ` [${code}]` : '';
    process.stderr.write(`idv ${name}: ${err instanceof ConfigError ? err.message : (err as Error).message}${tag}\n`);
    return 1;
  }
}
