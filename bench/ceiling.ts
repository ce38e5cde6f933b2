/**
 * The ceiling: a bare uWS server that reads a POST body, parses it as JSON and answers
 * a fixed verification result. Whatever our service adds (auth, validation, dispatch,
 * lookup, matching, metrics) shows as the distance from this figure in the same run.
 * Run as its own process: `node dist-bench/bench/ceiling.js` prints {"port": N}.
 */
import { App, listenSocketPort } from '../src/http/uws.js';

const ANSWER = JSON.stringify({ requestId: 'ceiling', result: 'match', fields: { fullName: { match: true, level: 'exact', score: 100 } }, status: { alive: true, card: 'valid' } });

const app = App().post('/*', (res) => {
  let aborted = false;
  const chunks: Buffer[] = [];
  res.onAborted(() => (aborted = true));
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(chunk.slice(0)));
    if (!isLast || aborted) return;
    let status = '200 OK';
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      status = '400 Bad Request';
    }
    res.cork(() => res.writeStatus(status).writeHeader('content-type', 'application/json').end(ANSWER));
  });
});
app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) throw new Error('ceiling server cannot listen');
  process.stdout.write(JSON.stringify({ msg: 'listening', port: listenSocketPort(socket) }) + '\n');
});
