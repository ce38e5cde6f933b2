import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { ERRORS } from '../../src/errors.js';
import { fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { KEYS, startTestServer, type TestServer } from '../helpers/server.js';
import { PROXY_TOOLS, startTlsProxy, TEMPLATE, type TlsProxy } from '../helpers/tlsProxy.js';
import { debianTool } from '../helpers/tools.js';

const runs = PROXY_TOOLS;
const PYTHON = debianTool('python3', 'python3', "the TLS proxy's 413 read by Python's urllib");

let index: TempIndex;
let service: TestServer;
let proxy: TlsProxy;
beforeAll(async () => {
  if (!runs) return;
  index = await tempIndex({ input: fixture('citizens.ndjson') });
  service = await startTestServer(index);
  proxy = await startTlsProxy(service.port);
});
afterAll(async () => {
  if (!runs) return;
  await proxy.stop();
  await service.close();
  index.remove();
});

/**
 * Writes raw bytes over TLS and collects what comes back until the proxy closes the
 * connection or `waitMs` passes with nothing new after `expectAnswers` status lines.
 */
function rawTls(chunks: (string | Buffer)[], opts: { expectAnswers?: number; waitMs?: number } = {}): Promise<{ text: string; closedByServer: boolean; statuses: number[] }> {
  const waitMs = opts.waitMs ?? 3000;
  return new Promise((resolve) => {
    let text = '';
    const statuses = () => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    const done = (closedByServer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closedByServer, statuses: statuses() });
    };
    const socket = connect({ port: proxy.port, host: '127.0.0.1', servername: 'localhost', ca: proxy.cert }, () => {
      for (const c of chunks) socket.write(c);
    });
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (opts.expectAnswers && statuses().length >= opts.expectAnswers && /\r\n\r\n[\s\S]*\}$/.test(text)) setTimeout(() => done(false), 100);
    });
    socket.on('close', () => done(true));
    socket.on('error', () => {});
  });
}

const post = (path: string, body: string, extra = '', version = '1.1') =>
  `POST ${path} HTTP/${version}\r\nHost: localhost\r\nAuthorization: Bearer ${KEYS.full}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const verifyBody = (idNumber: string, fullName: string) => JSON.stringify({ idNumber, fullName, dateOfBirth: '1990-05-17' });

describe.runIf(runs)('the TLS proxy in front of the service (deploy/nginx)', () => {
  it('answers over TLS, with no-store and without the HTTP library naming itself', async () => {
    const reply = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy.port, servername: 'localhost', ca: proxy.cert, path: '/v1/verify', method: 'POST', headers: { authorization: `Bearer ${KEYS.full}`, 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(verifyBody('001090000101', 'Nguyễn Văn An'));
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).result).toBe('match');
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers).not.toHaveProperty('uwebsockets');
    expect(reply.headers.server).toBe('nginx');
  });

  it('answers HTTP/1.0, then closes', async () => {
    const get = await rawTls(['GET /healthz HTTP/1.0\r\n\r\n']);
    expect(get.statuses).toEqual([200]);
    expect(get.text).toContain('{"status":"ok"}');
    expect(get.closedByServer).toBe(true);
    const postOld = await rawTls([post('/v1/verify', verifyBody('001090000101', 'Nguyễn Văn An'), '', '1.0')]);
    expect(postOld.statuses).toEqual([200]);
    expect(postOld.text).toContain('"result":"match"');
    expect(postOld.closedByServer).toBe(true);
  });

  it('answers pipelined requests, POSTs included, in order', async () => {
    const three = await rawTls(
      [post('/v1/verify', verifyBody('001090000101', 'Nguyễn Văn An')) + post('/v1/verify', verifyBody('001090009999', 'Ai Đó')) + post('/v1/verify', verifyBody('079190000202', 'Lê Văn Tám'))],
      { expectAnswers: 3 },
    );
    expect(three.statuses).toEqual([200, 200, 200]);
    expect([...three.text.matchAll(/"result":"(\w+)"/g)].map((m) => m[1])).toEqual(['match', 'not_found', 'mismatch']);
    const mixed = await rawTls([post('/v1/verify', verifyBody('001090000101', 'Nguyễn Văn An')) + 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'], { expectAnswers: 2 });
    expect(mixed.statuses).toEqual([200, 200]);
    expect(mixed.text).toMatch(/"result":"match"[\s\S]*\{"status":"ok"\}/);
  });

  it('honours Connection: close', async () => {
    const r = await rawTls([post('/v1/verify', verifyBody('001090000101', 'Nguyễn Văn An'), 'Connection: close\r\n')]);
    expect(r.statuses).toEqual([200]);
    expect(r.closedByServer).toBe(true);
  });

  it('refuses two Content-Length headers with 400 MALFORMED_REQUEST', async () => {
    const body = verifyBody('001090000101', 'Nguyễn Văn An');
    const r = await rawTls([post('/v1/verify', body, `Content-Length: ${body.length + 5}\r\n`)]);
    expect(r.statuses).toEqual([400]);
    expect(r.text).toContain('"code":"MALFORMED_REQUEST"');
  });

  it('answers a request of 60 headers, and refuses oversized headers with 431', async () => {
    const many = Array.from({ length: 60 }, (_, i) => `X-Extra-${i}: ${i}\r\n`).join('');
    const ok = await rawTls([post('/v1/verify', verifyBody('001090000101', 'Nguyễn Văn An'), many)], { expectAnswers: 1 });
    expect(ok.statuses).toEqual([200]);
    const huge = await rawTls([post('/v1/verify', verifyBody('001090000101', 'Nguyễn Văn An'), `X-Huge: ${'a'.repeat(20_000)}\r\n`)]);
    expect(huge.statuses).toEqual([431]);
    expect(huge.text).toContain('"code":"HEADERS_TOO_LARGE"');
  });

  it('answers a request of 100 headers, refuses a header of 8 KiB with 431, and Content-Length beside Transfer-Encoding with 400', async () => {
    const many = Array.from({ length: 100 }, (_, i) => `X-Extra-${i}: ${i}\r\n`).join('');
    const ok = await rawTls([post('/v1/verify', verifyBody('001090000101', 'Nguyễn Văn An'), many)], { expectAnswers: 1 });
    expect(ok.statuses).toEqual([200]);
    const big = await rawTls([post('/v1/verify', verifyBody('001090000101', 'Nguyễn Văn An'), `X-Big: ${'a'.repeat(8192)}\r\n`)]);
    expect(big.statuses).toEqual([431]);
    expect(big.text).toContain('"code":"HEADERS_TOO_LARGE"');
    const both = await rawTls([`POST /v1/verify HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${KEYS.full}\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`]);
    expect(both.statuses).toEqual([400]);
    expect(both.text).toContain('"code":"MALFORMED_REQUEST"');
  });

  it('answers 413 to a client that writes a 20 MB body before reading, and closes when asked to', async () => {
    const body = 'x'.repeat(20 * 1024 * 1024);
    const r = await rawTls([post('/v1/verify', body, 'Connection: close\r\n') + post('/v1/verify', verifyBody('001090000101', 'Nguyễn Văn An'))], { waitMs: 8000 });
    expect(r.statuses).toEqual([413]);
    expect(r.text).toContain('"code":"BODY_TOO_LARGE"');
    expect(r.closedByServer).toBe(true);
  });

  // The service runs in this process: its clients must not block the event loop (no spawnSync).
  const run = promisify(execFile);

  it.each(['/v1/verify', '/v1/verify/batch'])('lets Node fetch and Python urllib read the 413 of a 2, 5 and 20 MB body to %s', async (path) => {
    const sizes = [2, 5, 20]; // MiB, and one byte more: over the batch limit too
    const nodeScript = `
      const results = [];
      for (const mb of ${JSON.stringify(sizes)}) {
        const res = await fetch('https://localhost:${proxy.port}${path}', { method: 'POST', headers: { authorization: 'Bearer ${KEYS.full}', 'content-type': 'application/json' }, body: 'x'.repeat(mb * 1024 * 1024 + 1) });
        results.push([res.status, (await res.json()).error.code]);
      }
      console.log(JSON.stringify(results));`;
    const node = await run(process.execPath, ['--input-type=module', '-e', nodeScript], { env: { ...process.env, NODE_EXTRA_CA_CERTS: proxy.certFile } });
    expect(node.stderr).toBe('');
    expect(JSON.parse(node.stdout)).toEqual(sizes.map(() => [413, 'BODY_TOO_LARGE']));

    const pythonScript = [
      'import json, ssl, sys, urllib.request, urllib.error',
      `ctx = ssl.create_default_context(cafile=${JSON.stringify(proxy.certFile)})`,
      'out = []',
      `for mb in ${JSON.stringify(sizes)}:`,
      `    req = urllib.request.Request('https://localhost:${proxy.port}${path}', data=b'x' * (mb * 1024 * 1024 + 1), method='POST', headers={'Authorization': 'Bearer ${KEYS.full}', 'Content-Type': 'application/json'})`,
      '    try:',
      '        urllib.request.urlopen(req, context=ctx)',
      '    except urllib.error.HTTPError as e:',
      "        out.append([e.code, json.loads(e.read())['error']['code']])",
      'print(json.dumps(out))',
    ].join('\n');
    if (!PYTHON) return;
    const python = await run(PYTHON, ['-c', pythonScript]);
    expect(python.stderr).toBe('');
    expect(JSON.parse(python.stdout)).toEqual(sizes.map(() => [413, 'BODY_TOO_LARGE']));
  });

  it('answers 503 NOT_READY with Retry-After while the service is down', async () => {
    const orphan = await startTlsProxy(1); // nothing listens on port 1
    try {
      const r = await new Promise<string>((resolve) => {
        let text = '';
        const socket = connect({ port: orphan.port, host: '127.0.0.1', servername: 'localhost', ca: orphan.cert }, () => socket.write('GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
        socket.on('data', (d) => (text += d));
        socket.on('close', () => resolve(text));
      });
      expect(r).toMatch(/^HTTP\/1\.1 503 /);
      expect(r.toLowerCase()).toContain('retry-after: 1');
      expect(r).toContain('"code":"NOT_READY"');
    } finally {
      await orphan.stop();
    }
  });

  it("answers with the service's own error catalogue, word for word", () => {
    const template = readFileSync(TEMPLATE, 'utf8');
    const bodies = [...template.matchAll(/return (\d{3}) '\{"error":\{"code":"(\w+)","message":"([^"]+)"\}\}'/g)];
    expect(bodies.map((b) => b[2]).sort()).toEqual(['BODY_TOO_LARGE', 'HEADERS_TOO_LARGE', 'MALFORMED_REQUEST', 'NOT_FOUND', 'NOT_READY']);
    for (const [, status, code, message] of bodies) expect(ERRORS[code as keyof typeof ERRORS]).toEqual({ status: Number(status), message });
  });
});
