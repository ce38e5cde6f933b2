import { readFileSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ConfigError, DEFAULTS, SETTINGS, type ServeConfig } from '../config.js';

type Key = keyof ServeConfig;
const entries = Object.entries(SETTINGS) as [Key, (typeof SETTINGS)[Key]][];

/** The option name commander gives a flag's value (`--max-inflight <n>` → maxInflight). */
export const flagAttribute = (flag: string) => new Option(flag).attributeName();

/**
 * Adds a flag for every server setting but the index directory (which `serve` and `demo`
 * each declare, with their own default), each saying its variable and default, and
 * `--config FILE`.
 */
export function serveSettingOptions(cmd: Command): Command {
  for (const [key, s] of entries) {
    if (key === 'indexDir') continue;
    const fallback = (DEFAULTS as Partial<ServeConfig>)[key];
    const shown = fallback === undefined || typeof fallback === 'boolean' ? '' : `; default ${fallback}`;
    const option = new Option(s.flag, `${s.help} (env ${s.env}${shown})`);
    if (s.schema.type === 'string' && s.schema.enum) option.choices(s.schema.enum);
    cmd.addOption(option);
  }
  return cmd.option('--config <file>', 'a JSON file of settings by name, as in docs/operations.md (flags and the environment win over it)');
}

/** The server's settings as given: each from its flag, else its environment variable, else `--config FILE`. */
export function serveSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const out: Record<string, unknown> = typeof flags.config === 'string' ? readConfigFile(flags.config) : {};
  for (const [key, s] of entries) {
    const value = flags[flagAttribute(s.flag)] ?? env[s.env];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError('config', `${path}: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('config', `${path}: expected a JSON object of settings by name`);
  return parsed as Record<string, unknown>;
}

/** The configuration table of docs/operations.md, made from the settings table: one row a setting. */
export function settingsTable(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = entries.map(([key, s]) => {
    const fallback = (DEFAULTS as Partial<ServeConfig>)[key];
    const shown = fallback === undefined ? '' : `\`${String(fallback)}\``;
    return `| \`${key}\` | \`${s.flag.split(' ')[0]}\` | \`${s.env}\` | ${shown} | ${cell(s.help)} |`;
  });
  return ['| setting (`--config` key) | flag | environment | default | what |', '|---|---|---|---|---|', ...rows].join('\n');
}

const BEGIN = '<!-- settings: made by npm run docs:settings from src/config.ts -->';
const END = '<!-- /settings -->';

/** The table as it stands in a document, between its markers; undefined without them. */
export function documentedSettings(text: string): string | undefined {
  const from = text.indexOf(BEGIN);
  const to = text.indexOf(END);
  return from < 0 || to < from ? undefined : text.slice(from + BEGIN.length, to).trim();
}

/** Writes the table into a document between its markers. */
export function writeSettingsTable(path: string): void {
  const text = readFileSync(path, 'utf8');
  const from = text.indexOf(BEGIN);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${path} has no ${BEGIN} … ${END}`);
  writeFileSync(path, `${text.slice(0, from + BEGIN.length)}\n${settingsTable()}\n${text.slice(to)}`);
}
