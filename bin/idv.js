#!/usr/bin/env node
// Runs the compiled CLI. `npm install` compiles it (the "prepare" script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('idv: not compiled yet; run `npm run build` (npm install does it too)\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// Long-running commands (serve, demo) keep the process alive themselves.
if (code !== 0) process.exit(code);
