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
export const closeListenSocket = uws.us_listen_socket_close;
export const listenSocketPort = uws.us_socket_local_port;
