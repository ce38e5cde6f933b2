import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/packageFiles.js';

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Resolves when the server has read its index into the page cache (our server only). */
  warm?: Promise<void>;
  stop(): Promise<void>;
}

/** Starts `idv serve` in its own process and waits for its "listening" log line. */
export function startServerProcess(args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'idv.js'), 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    child.once('exit', (code) => reject(new Error(`server exited with code ${code}`)));
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
      child.removeAllListeners('exit');
      resolve({ url: `http://127.0.0.1:${event.port}`, port: event.port, child, warm, stop });
    });
  });
}
