/**
 * The only module that touches uWebSockets.js. The package silently falls back to a
 * slow pure-JS server when its native binary does not load; we load the binary
 * directly instead, so a missing or incompatible binary stops the service at start.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Uws from '@trufflesuite/uws-js-unofficial';

export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from '@trufflesuite/uws-js-unofficial';

const require = createRequire(import.meta.url);
const PACKAGE = '@trufflesuite/uws-js-unofficial';

function loadNative(): typeof Uws {
  const root = dirname(require.resolve(`${PACKAGE}/package.json`));
  const binary = join(root, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    return require(binary) as typeof Uws;
  } catch (err) {
    throw new Error(
      `uWebSockets.js native binary did not load (${binary}): ${(err as Error).message}. ` +
        'Refusing to run on the slow fallback implementation.',
    );
  }
}

const uws = loadNative();

export const App = uws.App;

// LIBUS_LISTEN_EXCLUSIVE_PORT: bind without SO_REUSEPORT. The native listen takes
// (host, port, options, callback); the package's typings omit that form.
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


