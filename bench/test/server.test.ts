import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/clients/clients.js';
import { tempIndex } from '../../test/helpers/fixtures.js';
import { startServerProcess } from '../server.js';

const KEY = 'bench-server-test-key';

describe('a bench server', () => {
  // Left beside the bench indexes, the trails of a day's runs once took 32 GB of the disk.
  it('writes its audit trail to a directory of its own, removed when it stops, not beside the index', async () => {
    const index = await tempIndex({ synthetic: 200 });
    try {
      const clients = join(index.dir, 'clients.json');
      writeFileSync(clients, JSON.stringify({ clients: [{ id: 'bench', keySha256: sha256Hex(KEY), scopes: ['verify'] }] }));
      const server = await startServerProcess(['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', clients]);
      const trail = server.auditDir!;
      try {
        // A refused verification is audited too.
        const reply = await fetch(`${server.url}/v1/verify`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: '{}' });
        expect(reply.status).toBe(422);
        await expect.poll(() => readdirSync(trail).some((f) => readFileSync(join(trail, f), 'utf8').includes('"/v1/verify"')), { timeout: 5000 }).toBe(true);
      } finally {
        await server.stop();
      }
      expect(existsSync(trail)).toBe(false);
      expect(existsSync(join(index.indexDir, 'audit'))).toBe(false);
    } finally {
      index.remove();
    }
  });
});
