/**
 * The only module that touches uWebSockets.js. Two builds are installed, and the first
 * whose native binary loads on this Node and this C library serves:
 *
 * - v20.57 (`@btc-vision/uwebsockets.js`, a republish of the official v20.57.0 binaries):
 *   Node 20, 22, 24 and 25, on glibc 2.38 or later. The supported runtime.
 * - v20.30 (`@trufflesuite/uws-js-unofficial`): Node 16, 18 and 20 only, on older glibc
 *   (Debian 12). Kept so the service still starts there, on a Node past its end of life.
 *
 * The binaries are loaded directly, not through the packages' loaders: v20.30's falls back
 * to a pure-JS server that cannot serve when its binary does not load. So the service
 * serves on native uWS or refuses to start, naming each binary and why it did not load.
 * The API the service uses is the same in both (App, listen with options, cork, onData,
 * onAborted, end, the listen socket helpers; none of the calls that differ, such as
 * sendFirstFragment), so nothing past this module knows which one runs.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Uws from '@btc-vision/uwebsockets.js';

export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from '@btc-vision/uwebsockets.js';

const require = createRequire(import.meta.url);

interface Build {
  version: string;
  /** The npm package that carries its binaries. */
  package: string;
  /** Where the binaries sit, from the folder of the package's main file (its package.json is not exported). */
  folder: string;
}

const BUILDS: readonly Build[] = [
  { version: '20.57.0', package: '@btc-vision/uwebsockets.js', folder: '.' },
  { version: '20.30.0', package: '@trufflesuite/uws-js-unofficial', folder: '../binaries' },
];


function binaryOf(build: Build): string {
  return join(dirname(require.resolve(build.package)), build.folder, `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
}

/** The first build whose binary loads here; an error naming why each did not, when none does. */
function loadUws(): Build & { uws: typeof Uws } {
  const failures: string[] = [];
  for (const build of BUILDS) {
    const binary = binaryOf(build);
    try {
      return { ...build, uws: require(binary) as typeof Uws };
    } catch (err) {
      failures.push(`v${build.version} (${binary}): ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    `no uWebSockets.js native binary loads on Node ${process.versions.node} (ABI ${process.versions.modules}): ${failures.join('; ')}. ` +
      'v20.57 needs glibc 2.38 or later (Debian 13, Ubuntu 24.04); on an older glibc only Node 20 with v20.30 serves ' +
      "(npm install, npm start and npm test choose it; after `npm install <package>`, run `npm run prepare`). " +
      'Refusing to run on a slow fallback implementation.',
  );
}

const loaded = loadUws();
const uws = loaded.uws;

/** Which uWebSockets.js build serves, for the start-up line and the runtime metric. */
export const uwsBuild = { version: loaded.version, package: loaded.package } as const;

export const App = uws.App;

// LIBUS_LISTEN_EXCLUSIVE_PORT: bind without SO_REUSEPORT. Both builds' native listen takes
// (host, port, options, callback); the typings omit that form.
const LISTEN_EXCLUSIVE_PORT = 1;
type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: Uws.us_listen_socket | false) => void) => void;

/**
 * uWS listens with SO_REUSEPORT by default: a second server on the same port would start
 * without a word and the kernel would split connections between the two, each answering
 * from its own index and clients file. Listening exclusively makes the second one fail.
 */
export function listenExclusively(app: Uws.TemplatedApp, host: string, port: number): Promise<Uws.us_listen_socket> {
  return new Promise((resolve, reject) => {
    (app.listen as unknown as ListenWithOptions).call(app, host, port, LISTEN_EXCLUSIVE_PORT, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`cannot listen on ${host}:${port}: another process listens there, or the address is not this machine's`));
    });
  });
}
/**
 * Listens with SO_REUSEPORT, as every server thread does on the port the main thread
 * reserved by binding it exclusively first (so another server cannot already be there).
 */
export function listenShared(app: Uws.TemplatedApp, host: string, port: number): Promise<Uws.us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`cannot listen on ${host}:${port}`));
    });
  });
}

export const closeListenSocket = uws.us_listen_socket_close;
export const listenSocketPort = uws.us_socket_local_port;

/** Finds a port to serve on and makes sure no other server holds it: bound exclusively, then let go for the threads. */
export async function reservePort(host: string, port: number): Promise<number> {
  const socket = await listenExclusively(App(), host, port);
  const bound = listenSocketPort(socket);
  closeListenSocket(socket);
  return bound;
}
