import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/packageFiles.js';
import { freePort } from './server.js';
import { debianTool } from './tools.js';

export const TEMPLATE = join(PACKAGE_ROOT, 'deploy', 'nginx', 'idv.conf.template');

const TESTS = 'the TLS proxy tests (test/deploy)';
/** Debian's nginx and openssl (which makes the test's certificate), where installed; CI installs them. */
export const NGINX = debianTool('nginx', 'nginx-light', TESTS);
const OPENSSL = debianTool('openssl', 'openssl', TESTS);
export const PROXY_TOOLS = NGINX !== undefined && OPENSSL !== undefined;

export interface TlsProxy {
  port: number;
  /** The self-signed certificate the proxy presents (for localhost and 127.0.0.1). */
  certFile: string;
  cert: Buffer;
  stop(): Promise<void>;
}

/**
 * The shipped nginx template, rendered as the docs say, in front of a service on
 * `upstreamPort` (the primary) and `others` (more instances), with a certificate made for the test. Runs nginx in the foreground as
 * one process, everything in a temporary folder.
 */
export async function startTlsProxy(upstreamPort: number, others: number[] = []): Promise<TlsProxy> {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx-light)');
  const dir = mkdtempSync(join(tmpdir(), 'idv-nginx-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const made = spawnSync(OPENSSL!, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
  const port = await freePort();
  // The first upstream is the primary; every one serves verifications.
  const servers = [upstreamPort, ...others].map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join(' ');
  const values: Record<string, string> = { IDV_LISTEN: `127.0.0.1:${port}`, IDV_SERVERS: servers, IDV_PRIMARY: `127.0.0.1:${upstreamPort}`, IDV_TLS_CERT: certFile, IDV_TLS_KEY: keyFile };
  writeFileSync(join(dir, 'idv.conf'), readFileSync(TEMPLATE, 'utf8').replace(/\$\{(IDV_[A-Z_]+)\}/g, (_, name: string) => values[name]));
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'master_process off;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 256; }',
      `http { access_log off; ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join(' ')} include ${join(dir, 'idv.conf')}; }`,
    ].join('\n'),
  );
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let tries = 0; ; tries++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(true));
      socket.on('error', () => resolve(false));
      socket.on('connect', () => socket.destroy());
    });
    if (up) break;
    if (child.exitCode !== null || tries > 100) {
      await stop();
      throw new Error(`nginx did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, certFile, cert: readFileSync(certFile), stop };
}
