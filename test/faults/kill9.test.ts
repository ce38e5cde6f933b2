import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { fullDateOf, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';
import { batchesFor, checkLog, wholeLog, type SentBatch } from './helpers.js';

let index: TempIndex;
beforeAll(async () => {
  index = await tempIndex({ synthetic: 5000, seed: 5 });
});
afterAll(() => index.remove());

describe('kill -9 during a stream of update batches', () => {
  it('keeps every acknowledged batch exactly once, none half applied, and the index opens cleanly', async () => {
    const args = ['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', writeClientsFile(index.dir)];
    const sent = batchesFor(index, 120, 25, 'kill9');
    const acknowledged = new Map<string, { firstSequence: number; lastSequence: number }>();
    const server = await startCli('serve', args);
    // Four senders at once, so that batches are in flight (queued or committing) when the process dies.
    let next = 0;
    const killAt = 30;
    const sender = async () => {
      while (next < sent.length) {
        const batch = sent[next++];
        const reply = await call(server.url, '/v1/records', { key: KEYS.registrar, body: batch }).catch(() => undefined);
        if (reply?.status === 200) acknowledged.set(batch.idempotencyKey, reply.body);
        if (acknowledged.size === killAt) server.child.kill('SIGKILL');
        if (!reply) return;
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    expect(await server.stop()).toBeNull(); // killed by the signal
    expect(acknowledged.size).toBeGreaterThanOrEqual(killAt);

    const restarted = await startCli('serve', args);
    try {
      const log = await wholeLog(restarted.url);
      const checked = checkLog(log, sent, acknowledged);
      // Applied once: every acknowledged batch sent again is answered as the first time and changes nothing.
      for (const [key, answer] of acknowledged) {
        const again = await call(restarted.url, '/v1/records', { key: KEYS.registrar, body: sent.find((b: SentBatch) => b.idempotencyKey === key) });
        expect(again.body).toMatchObject({ ...answer, replayed: true, requestId: again.body.requestId });
      }
      expect((await wholeLog(restarted.url)).length).toBe(log.length);
      // The records are those of the log: the last change logged about each citizen is what verification sees.
      const last = new Map(log.map((c) => [c.idNumber, c.record!]));
      for (const record of [...last.values()].slice(0, 200)) {
        const reply = await call(restarted.url, '/v1/verify', { key: KEYS.full, body: { idNumber: record.idNumber, fullName: record.fullName, dateOfBirth: fullDateOf(record.dateOfBirth) } });
        expect(reply.status, JSON.stringify(reply.body)).toBe(200);
        expect(reply.body.result, record.idNumber).not.toBe('mismatch');
        expect(reply.body.status.card === 'revoked', record.idNumber).toBe(record.cardStatus === 'revoked');
      }
      console.log(`kill -9 after ${killAt} acknowledged batches: ${checked}; re-sent acknowledged batches all answered as before`);
    } finally {
      await restarted.stop();
    }
  });
});
