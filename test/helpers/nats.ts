import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server.js';
import { debianTool } from './tools.js';

export const NATS_SERVER = debianTool('nats-server', 'nats-server', 'the replication tests');

/** A cluster's routes: this server's port for them, and every member's. */
interface Cluster {
  name: string;
  port: number;
  routes: number[];
}

/**
 * A real nats-server with JetStream, on a free port, with its own store in a temporary
 * directory; stopped and started again on the same port and store, as an outage is.
 */
export class NatsServer {
  private child?: ChildProcess;
  private log = '';

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly cluster?: Cluster,
  ) {}

  get name(): string {
    return `n${this.port}`;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(cluster?: Cluster, port?: number): Promise<NatsServer> {
    const server = new NatsServer(port ?? (await freePort()), mkdtempSync(join(tmpdir(), 'idv-nats-')), cluster);
    await server.resume();
    return server;
  }

  /** A cluster of `size` servers, each holding JetStream's copies of the streams. */
  static async cluster(size: number): Promise<NatsServer[]> {
    const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    return Promise.all(clientPorts.map((port, i) => NatsServer.start({ name: 'idv-test', port: routePorts[i], routes: routePorts }, port)));
  }

  /** Starts the server (again), and waits until it takes connections. */
  async resume(): Promise<void> {
    const args = ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir, '--server_name', this.name];
    if (this.cluster) args.push('--cluster_name', this.cluster.name, '--cluster', `nats://127.0.0.1:${this.cluster.port}`, '--routes', this.cluster.routes.map((p) => `nats://127.0.0.1:${p}`).join(','));
    const child = spawn(NATS_SERVER!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d) => (this.log = (this.log + d).slice(-20_000)));
    const deadline = Date.now() + 15_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited ${child.exitCode}: ${this.log}`);
      if (Date.now() > deadline) throw new Error(`nats-server not listening on ${this.port}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the server (SIGKILL: as a machine lost; SIGTERM: as a stop). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async remove(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** The server of a cluster that leads a stream (JetStream's stream info). */
export async function streamLeader(servers: NatsServer[], stream: string): Promise<NatsServer> {
  const nc = await connect({ servers: servers.map((s) => s.url) });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(stream);
    const leader = servers.find((s) => s.name === info.cluster?.leader);
    if (!leader) throw new Error(`no leader of ${stream} among the cluster (${info.cluster?.leader})`);
    return leader;
  } finally {
    await nc.close();
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
