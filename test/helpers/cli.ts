import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PACKAGE_ROOT } from '../../src/packageFiles.js';

export const IDV = join(PACKAGE_ROOT, 'bin', 'idv.js');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export const idv = (...args: string[]): Run => spawnSync(process.execPath, [IDV, ...args], { encoding: 'utf8' });
/** `idv` killed after `ms` if it has not exited by then (status null): for a command that should stop at once but might serve on. */
export const idvWithin = (ms: number, ...args: string[]): Run => spawnSync(process.execPath, [IDV, ...args], { encoding: 'utf8', timeout: ms });

/** Runs the CLI in the background; resolves when it exits. `pid` is known at once. */
export function idvAsync(...args: string[]): { pid: number; done: Promise<Run> } {
  const child = spawn(process.execPath, [IDV, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.once('exit', (status) => resolve({ status, stdout, stderr })));
  return { pid: child.pid!, done };
}

/** The JSON log lines of a run. */
export const logLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `idv <command> ...` as a child process (on `--port 0` unless args name a port) and resolves once it listens. */
export async function startCli(command: 'serve' | 'demo', args: string[], timeoutMs = 20_000, env?: Record<string, string>): Promise<ServeProcess & { stderr: () => string; logs: () => Record<string, unknown>[] }> {
  const port = args.includes('--port') ? [] : ['--port', '0'];
  const child = spawn(process.execPath, [IDV, command, ...args, ...port], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      exited.then((code) => reject(new Error(`${command} exited ${code}: ${stderr}`)));
      setTimeout(() => reject(new Error(`${command} not listening after ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.startsWith('{')) return;
        const event = JSON.parse(line);
        logs.push(event);
        if (event.msg === 'listening') resolve(event.port);
      });
    });
    return { child, port, url: `http://127.0.0.1:${port}`, stop, stderr: () => stderr, logs: () => logs };
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
}
