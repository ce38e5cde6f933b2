import { LiveState } from '../../src/service/liveState.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { auditFiles } from '../../src/audit/trail.js';
import { serveConfig } from '../../src/config.js';
import { ClientRegistry, readClientsFile } from '../../src/clients/clients.js';
import type { Dispatcher } from '../../src/service/dispatch.js';
import { startServer } from '../../src/routes/app.js';
import { Metrics } from '../../src/service/metrics.js';
import { CandidateRefs } from '../../src/verification/candidateRef.js';
import { fixture, fullDateOf, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, startTestServer, writeClientsFile, type Reply, UNLIMITED } from '../helpers/server.js';

/** Everything of the fixture citizens a verification may carry: none of it may be written anywhere. */
const people = readFileSync(fixture('citizens.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const PERSONAL = [
  ...people.flatMap((p) => [p.idNumber, p.fullName, p.fullName.normalize('NFD'), p.dateOfBirth, fullDateOf(p.dateOfBirth), p.legacyIdNumber]),
  ...people.flatMap((p) => p.fullName.split(' ').filter((w: string) => w.length >= 4)),
  // A date held as a year alone ("1945") is left out: four digits turn up by chance in hex macs and latencies.
].filter((v): v is string => typeof v === 'string' && v.length >= 4 && !/^[0-9]{4}$/.test(v));

let index: TempIndex;
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
});
afterAll(() => index.remove());

function expectNothingPersonal(what: string, text: string): void {
  const found = PERSONAL.filter((v) => text.includes(v));
  expect(found, `${what} holds personal data`).toEqual([]);
}

describe('nothing personal in logs, metrics, error messages or the audit trail', () => {
  it('holds after every kind of request, answer and refusal', async () => {
    const logs: Record<string, unknown>[] = [];
    const auditDir = join(index.dir, 'audit');
    const server = await startTestServer(index, { auditDir }, (e) => logs.push(e));
    const answers: Reply[] = [];
    const send = async (path: string, opts: Parameters<typeof call>[2]) => answers.push(await call(server.url, path, opts));
    try {
      for (const p of people) {
        // A consent reference is the client's free text: here it quotes the person whole.
        const consentRef = `${p.idNumber} ${p.fullName} ${fullDateOf(p.dateOfBirth)}`;
        const claim = { idNumber: p.idNumber, fullName: p.fullName, dateOfBirth: fullDateOf(p.dateOfBirth), gender: p.gender, purpose: 'account-opening', consentRef };
        await send('/v1/verify', { key: KEYS.full, body: claim });
        await send('/v1/verify', { key: KEYS.full, body: { ...claim, fullName: p.fullName + ' Thị', dateOfBirth: '2001-01-01' } });
        await send('/v1/verify', { key: KEYS.full, raw: pack(claim), contentType: 'application/msgpack' });
        await send('/v1/verify/demographic', { key: KEYS.full, body: { fullName: p.fullName, dateOfBirth: fullDateOf(p.dateOfBirth), consentRef } });
        await send('/v1/verify/demographic', { key: KEYS.full, body: { fullName: p.fullName, dateOfBirth: '2001-01-01', consentRef: 42 } });
        await send('/v1/verify', { body: claim }); // no key
        await send('/v1/verify', { key: KEYS.verifyOnly, body: claim, contentType: 'text/plain' });
        await send('/v1/verify', { key: KEYS.full, raw: JSON.stringify(claim).slice(0, -5) }); // truncated JSON
        await send('/v1/verify', { key: KEYS.full, body: { ...claim, fullName: 42, nickname: p.fullName } });
        await send('/v1/verify', { key: KEYS.full, body: { ...claim, idNumber: p.idNumber.slice(0, 11) + 'x' } });
        await send('/v1/verify', { key: KEYS.full, body: { ...claim, dateOfBirth: p.dateOfBirth + '-99' } });
        await send('/v1/verify/demographic', { key: KEYS.verifyOnly, body: { fullName: p.fullName, dateOfBirth: fullDateOf(p.dateOfBirth) } });
      }
      await send('/v1/verify/batch', { key: KEYS.full, body: { items: people.map((p) => ({ type: 'id', idNumber: p.idNumber, fullName: p.fullName, dateOfBirth: fullDateOf(p.dateOfBirth) })) } });
      await send('/v1/verify/batch', { key: KEYS.batchNoDemographic, body: { items: people.map((p) => ({ type: 'demographic', fullName: p.fullName, dateOfBirth: fullDateOf(p.dateOfBirth) })) } });
      await send('/v1/nowhere', { key: KEYS.full, body: { idNumber: people[0].idNumber } });
      const metrics = await call(server.url, '/metrics');
      expectNothingPersonal('/metrics', metrics.body);
    } finally {
      await server.close();
    }
    expect(answers.map((a) => a.status)).toEqual(expect.arrayContaining([200, 401, 403, 404, 400, 415, 422]));
    for (const a of answers.filter((r) => r.status >= 400)) expectNothingPersonal(`a ${a.status} answer`, JSON.stringify(a.body));
    expect(logs.length).toBeGreaterThan(0);
    expectNothingPersonal('the log', JSON.stringify(logs));
    const trail = auditFiles(auditDir).map((f) => readFileSync(join(auditDir, f), 'utf8')).join('');
    expect(trail.split('\n').filter(Boolean).length).toBeGreaterThan(people.length * 12);
    expect(trail).toMatch(/"consentRef":"c[0-9a-f]{31}"/);
    expectNothingPersonal('the audit trail', trail);
  });

  it('holds when the work fails with an error whose message quotes the request', async () => {
    const logs: Record<string, unknown>[] = [];
    const leaky: Dispatcher = {
      run: (items) => Promise.reject(new Error(`cannot match ${JSON.stringify(items)}`)),
      close: async () => {},
    };
    const config = serveConfig({ indexDir: index.indexDir, secretFile: index.secretFile, clientsFile: writeClientsFile(index.dir), port: 0 });
    const clients = new ClientRegistry(readClientsFile(config.clientsFile!), UNLIMITED);
    const server = await startServer({ config, dispatcher: leaky, clients, metrics: new Metrics(), state: new LiveState(), candidateRefs: new CandidateRefs(index.secret.bytes), log: (e) => logs.push(e) });
    try {
      const p = people[0];
      const reply = await call(`http://127.0.0.1:${server.port}`, '/v1/verify', { key: KEYS.full, body: { idNumber: p.idNumber, fullName: p.fullName, dateOfBirth: fullDateOf(p.dateOfBirth) } });
      expect(reply.status).toBe(500);
    } finally {
      await server.close();
    }
    const failure = logs.find((e) => e.msg === 'request failed');
    expect(failure).toMatchObject({ level: 'error', errName: 'Error', frames: expect.arrayContaining([expect.stringMatching(/^at /)]) });
    expectNothingPersonal('the log of a failure', JSON.stringify(logs));
  });
});
