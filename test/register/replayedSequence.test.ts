import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, startTestServer, type TestServer } from '../helpers/server.js';

/** A batch sent again is answered as it was the first time, and the register does not move back with it. */
let index: TempIndex;
let server: TestServer;
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
  server = await startTestServer(index);
});
afterAll(async () => {
  await server.close();
  index.remove();
});

const batch = (key: string, day: number) => call(server.url, '/v1/records', { key: KEYS.registrar, body: { idempotencyKey: key, changes: [{ op: 'reissueCard', idNumber: '001090000101', cardIssueDate: `2026-11-0${day}` }] } });

describe('a replayed batch', () => {
  it('leaves /readyz and idv_register_last_sequence at the last change applied', async () => {
    expect((await batch('first', 1)).body).toMatchObject({ lastSequence: 1, replayed: false });
    expect((await batch('second', 2)).body).toMatchObject({ lastSequence: 2, replayed: false });
    expect((await batch('first', 1)).body).toMatchObject({ lastSequence: 1, replayed: true });
    expect((await call(server.url, '/readyz')).body).toMatchObject({ sequence: 2 });
    expect((await call(server.url, '/metrics')).body).toMatch(/^idv_register_last_sequence 2$/m);
  });
});
