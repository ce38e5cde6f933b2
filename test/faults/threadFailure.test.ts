import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { claimOf, fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

/**
 * A server thread that fails (an exception nothing caught) in the default design: it stops
 * serving, the main thread logs it and starts another, and the server goes on. Before, the
 * thread ended with uWS's sockets open and Node aborted the whole process.
 */
let index: TempIndex;
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
});
afterAll(() => index.remove());

describe('a server thread that fails', () => {
  it('is replaced, and the server goes on answering on every thread', async () => {
    const trigger = join(index.dir, 'fail-a-thread');
    const hook = join(import.meta.dirname, '..', 'fixtures', 'failingServerThread.mjs');
    const args = ['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', writeClientsFile(index.dir), '--threads', '2'];
    const server = await startCli('serve', args, 20_000, { NODE_OPTIONS: `--import=${hook}`, IDV_TEST_FAIL_FILE: trigger });
    try {
      const verify = () => call(server.url, '/v1/verify', { key: KEYS.full, body: claimOf('001090000101') }).then((r) => r.body.result as string, () => 'no answer');
      const replaced = () => server.logs().filter((l) => l.msg === 'server thread stopped; starting another').length;
      // Three failures with two threads: without replacements, none would be left for the third round.
      for (let round = 1; round <= 3; round++) {
        writeFileSync(trigger, '');
        await vi.waitFor(() => expect(replaced()).toBe(round), { timeout: 10_000, interval: 50 });
        // The new thread listens soon after; a request meanwhile goes to the one left.
        await vi.waitFor(async () => expect(await Promise.all(Array.from({ length: 12 }, verify))).toEqual(Array(12).fill('match')), { timeout: 10_000, interval: 100 });
      }
      const failures = server.logs().filter((l) => l.msg === 'server thread failed');
      expect(failures).toHaveLength(3);
      // Logged as every error is: its name and stack, never its message (which could quote a request).
      expect(failures[0]).toMatchObject({ level: 'error', errName: 'Error', frames: expect.arrayContaining([expect.stringContaining('failingServerThread.mjs')]) });
      expect(server.child.exitCode).toBeNull();
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
