import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { program } from '../../src/cli/program.js';
import { PACKAGE_ROOT } from '../../src/packageFiles.js';
import { idv } from '../helpers/cli.js';

/** The command lines of the README and docs/ against the CLI's own definitions: what a reader types exists. */
const DOCS = ['README.md', ...readdirSync(join(PACKAGE_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
const readme = DOCS.map((f) => readFileSync(join(PACKAGE_ROOT, f), 'utf8')).join('\n');

/** The command a path of words names (`audit query`), or undefined. */
function commandAt(root: Command, words: string[]): Command | undefined {
  let at: Command | undefined = root;
  for (const word of words) at = at?.commands.find((c) => c.name() === word);
  return at;
}

const flagsOf = (cmd: Command) => new Set(cmd.options.map((o) => o.long));

/**
 * Every `idv <command> [<sub>] --flags…` the README shows: the synopsis lines of its
 * "Command line" section (with their indented continuations), and every other line that
 * runs `idv` in a code block or in backquotes.
 */
function readmeInvocations(): { line: string; words: string[]; flags: string[] }[] {
  const out: { line: string; words: string[]; flags: string[] }[] = [];
  const root = program();
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    for (const m of lines[i].matchAll(/(?:^|[`\s$])(?:npx )?idv ([a-z]+)(?: ([a-z]+))?([^`|#]*)/g)) {
      let rest = m[3];
      // A synopsis goes on over the indented lines under it.
      if (lines[i].startsWith('idv ')) for (let j = i + 1; j < lines.length && /^\s{6,}\[?--/.test(lines[j]); j++) rest += ' ' + lines[j];
      const sub = m[2] && commandAt(root, [m[1], m[2]]) ? [m[2]] : [];
      out.push({ line: lines[i].trim(), words: [m[1], ...sub], flags: [...rest.matchAll(/--[a-z][a-z-]*/g)].map((f) => f[0]) });
    }
  }
  return out;
}

describe('the docs and the CLI', () => {
  const root = program();
  const invocations = readmeInvocations();

  it('every command and flag the README and docs/ show exists, with every command named', () => {
    expect(invocations.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const { line, words, flags } of invocations) {
      const cmd = commandAt(root, words);
      if (!cmd || cmd === root) {
        problems.push(`${line}: no command idv ${words.join(' ')}`);
        continue;
      }
      // `demo [serve options]` takes serve's flags too.
      for (const flag of flags) if (!flagsOf(cmd).has(flag) && flag !== '--help') problems.push(`${line}: idv ${words.join(' ')} has no ${flag}`);
    }
    expect(problems).toEqual([]);
    const shown = new Set(invocations.map((i) => i.words.join(' ')));
    const leaves = root.commands.filter((c) => c.name() !== 'help').flatMap((c) => (c.commands.length ? c.commands.map((s) => `${c.name()} ${s.name()}`) : [c.name()]));
    expect(leaves.filter((c) => !shown.has(c))).toEqual([]);
  });

  it('generates idv --help and idv <command> --help from the definitions', () => {
    const top = idv('--help');
    expect(top.status).toBe(0);
    for (const c of root.commands.filter((c) => c.name() !== 'help')) expect(top.stdout).toContain(c.name());
    const serve = idv('serve', '--help');
    expect(serve.status).toBe(0);
    for (const flag of flagsOf(commandAt(root, ['serve'])!)) expect(serve.stdout).toContain(flag!);
    expect(idv('audit', 'query', '--help').stdout).toContain('--id <n>');
  });

  it('refuses an unknown command and a missing required flag with a usage error (exit 2)', () => {
    expect(idv('nope').status).toBe(2);
    const missing = idv('info');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("required option '--index <dir>' not specified");
  });
});
