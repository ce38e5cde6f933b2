import { describe, expect, it } from 'vitest';
import { runtimeStatus, runtimeWarning } from '../src/runtime.js';
import { startCli } from './helpers/cli.js';
import { tempIndex } from './helpers/fixtures.js';
import { writeClientsFile } from './helpers/server.js';

const day = new Date('2026-12-03T12:00:00Z');

describe('the runtime', () => {
  it('is past its end of life on Node 20 (April 2026) and on older lines, not on Node 24', () => {
    expect(runtimeStatus('20.20.2', day)).toEqual({ node: '20.20.2', endOfLife: '2026-04-30', pastEndOfLife: true });
    expect(runtimeStatus('16.20.0', day).pastEndOfLife).toBe(true);
    expect(runtimeStatus('22.23.5', day).pastEndOfLife).toBe(false);
    expect(runtimeStatus('24.22.3', day)).toEqual({ node: '24.22.3', endOfLife: '2028-04-30', pastEndOfLife: false });
    expect(runtimeStatus('24.22.3', new Date('2028-05-01')).pastEndOfLife).toBe(true);
    expect(runtimeWarning(runtimeStatus('24.22.3', day))).toBeUndefined();
    expect(runtimeWarning(runtimeStatus('20.20.2', day))).toMatchObject({ level: 'warn', node: '20.20.2', endOfLife: '2026-04-30', why: expect.stringContaining('Node 24') });
  });

  it('is said at start by idv serve when past its end of life', async () => {
    const index = await tempIndex({ synthetic: 100 });
    const server = await startCli('serve', ['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', writeClientsFile(index.dir)]);
    try {
      const warning = server.logs().find((l) => l.msg === 'running on a Node release past its end of life: no security fixes');
      if (runtimeStatus().pastEndOfLife) expect(warning).toMatchObject({ level: 'warn', node: process.versions.node });
      else expect(warning).toBeUndefined();
    } finally {
      await server.stop();
      index.remove();
    }
  });
});
