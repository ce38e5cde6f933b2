import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/packageFiles.js';

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Where its audit trail goes (removed when it exits); none when given --audit-dir or --unprotected. */
  auditDir?: string;
  /** The Node release and uWebSockets.js build it runs on, from its "listening" line. */
  runtime?: { node: string; uws: string };
  /** Resolves when the server has read its index into the page cache (our server only). */
  warm?: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Where a bench server's audit trail goes: a directory of its own, removed when the server
 * exits (left beside the bench indexes, the trails of a day's runs took 32 GB). It is on the
 * indexes' disk, not /tmp (which may be memory): written and synced as in service.
 */
function auditDirFor(args: string[]): string | undefined {
  if (args.includes('--audit-dir') || args.includes('--unprotected')) return undefined;
  mkdirSync(join(PACKAGE_ROOT, '.idv'), { recursive: true });
  return mkdtempSync(join(PACKAGE_ROOT, '.idv', 'bench-audit-'));
}

/**
 * Starts `idv serve` in its own process and waits for its "listening" log line. `idv`: the
 * command that runs the CLI (default: this Node and this tree's bin/idv.js).
 */
export function startServerProcess(args: string[], idv: string[] = [process.execPath, join(PACKAGE_ROOT, 'bin', 'idv.js')]): Promise<ServerProcess> {
  const auditDir = auditDirFor(args);
  const child = spawn(idv[0], [...idv.slice(1), 'serve', '--port', '0', ...args, ...(auditDir ? ['--audit-dir', auditDir] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (auditDir) child.once('exit', () => rmSync(auditDir, { recursive: true, force: true }));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const exitedEarly = (code: number | null) => reject(new Error(`server exited with code ${code}`));
    child.once('exit', exitedEarly);
    let warmed!: () => void;
    const warm = new Promise<void>((r) => (warmed = r));
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const event = JSON.parse(line);
      if (event.msg === 'index pages read into the page cache') warmed();
      if (event.msg !== 'listening') return;
      const stop = () =>
        new Promise<void>((done) => {
          child.once('exit', () => done());
          child.kill('SIGTERM');
        });
      child.off('exit', exitedEarly);
      resolve({ url: `http://127.0.0.1:${event.port}`, port: event.port, runtime: { node: event.node, uws: event.uws }, child, auditDir, warm, stop });
    });
  });
}

/**
 * A bench server of its own (dist-bench/bench/ceiling.js) that prints {"port": N} once it listens.
 * `command`: how to run the script (default: this Node and this tree's dist-bench/bench/SCRIPT).
 */
export async function startBenchServer(script = 'ceiling.js', args: string[] = [], command: string[] = [process.execPath, join(PACKAGE_ROOT, 'dist-bench', 'bench', script)]): Promise<ServerProcess> {
  const child = spawn(command[0], [...command.slice(1), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with code ${code}`)));
    child.stdout!.once('data', (d) => resolve(JSON.parse(String(d)).port));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
