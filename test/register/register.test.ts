import { describe, expect, it, vi } from 'vitest';
import { CONTRACT } from '../helpers/contract.js';
import { call, fixtureServer, KEYS, type Reply } from '../helpers/server.js';

/** The live register over HTTP: changes applied while serving, visible to verifications, logged in order. */
const current = fixtureServer();
/** Every answer, error or not, follows the published OpenAPI document. */
const conforms = (reply: Reply, path: string, method: 'get' | 'post') => CONTRACT.conforms(reply, path, method);
const records = async (body: unknown, key = KEYS.registrar) => conforms(await call(current.server.url, '/v1/records', { key, body }), '/v1/records', 'post');
const changes = async (query = '') => conforms(await call(current.server.url, `/v1/changes${query}`, { key: KEYS.registrar }), '/v1/changes', 'get');
const verify = (body: object) => call(current.server.url, '/v1/verify', { key: KEYS.full, body });
const search = (body: object) => call(current.server.url, '/v1/verify/demographic', { key: KEYS.full, body });
let batches = 0;
const batch = (...list: object[]) => ({ idempotencyKey: `test-${++batches}`, changes: list });

/** Verifications see a batch once it is acknowledged; polled for at most 1 s (the guarantee), the last value returned either way. */
async function within1s<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let last!: T;
  await vi.waitFor(async () => expect(done((last = await probe()))).toBe(true), { timeout: 1000, interval: 20 }).catch(() => {});
  return last;
}

describe('POST /v1/records', () => {
  it('applies a name change: the new name verifies and finds the citizen, the old one neither', async () => {
    const reply = await records(batch({ op: 'rename', idNumber: '001199000404', fullName: 'Phạm Thị Mai Anh' }));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ applied: 1, replayed: false });
    expect(reply.body.lastSequence).toBe(reply.body.firstSequence);
    const renamed = await within1s(() => verify({ idNumber: '001199000404', fullName: 'Phạm Thị Mai Anh', dateOfBirth: '1999-03-01' }), (r) => r.body.result === 'match');
    expect(renamed.body.result).toBe('match');
    expect((await verify({ idNumber: '001199000404', fullName: 'Phạm Thị Mai', dateOfBirth: '1999-03-01' })).body.result).not.toBe('match');
    expect((await search({ fullName: 'Phạm Thị Mai Anh', dateOfBirth: '1999-03-01' })).body.result).toBe('unique');
    expect((await search({ fullName: 'Phạm Thị Mai', dateOfBirth: '1999-03-01' })).body.result).toBe('none');
  });

  it('records a death, a revoked card and a reissued one as each arrives', async () => {
    const claim = { idNumber: '079190000202', fullName: 'Trần Thị Thủy', dateOfBirth: '1990-11-02' };
    expect((await records(batch({ op: 'deceased', idNumber: '079190000202' }))).status).toBe(200);
    expect((await within1s(() => verify(claim), (r) => r.body.status?.alive === false)).body.status).toEqual({ alive: false, card: 'valid' });
    await records(batch({ op: 'revokeCard', idNumber: '001090000101' }));
    const revoked = await within1s(() => verify({ idNumber: '001090000101', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' }), (r) => r.body.status?.card === 'revoked');
    expect(revoked.body.status.card).toBe('revoked');
    await records(batch({ op: 'reissueCard', idNumber: '001085000505', cardIssueDate: '2026-11-01' }));
    const reissued = await within1s(() => verify({ idNumber: '001085000505', fullName: 'Hoàng Đức Minh', dateOfBirth: '1985-07-20', cardIssueDate: '2026-11-01' }), (r) => r.body.status?.card === 'valid');
    expect(reissued.body).toMatchObject({ result: 'match', status: { card: 'valid' } });
  });

  it('adds a citizen by upsert, drops a legacy number the new record lacks, and deletes; /readyz and the metric count them within 1 s', async () => {
    const born = { idNumber: '001226000111', fullName: 'Lê Minh Khang', dateOfBirth: '2026-11-20', gender: 'male' };
    const citizens = async () => Number(/^idv_index_records (\d+)$/m.exec((await call(current.server.url, '/metrics')).body as string)?.[1]);
    const ready = async () => (await call(current.server.url, '/readyz')).body.records as number;
    const before = await citizens();
    expect(await ready()).toBe(before);
    expect((await records(batch({ op: 'upsert', record: born }))).status).toBe(200);
    expect((await within1s(() => verify(born), (r) => r.body.result === 'match')).body.result).toBe('match');
    expect(await within1s(citizens, (n) => n === before + 1)).toBe(before + 1);
    expect(await within1s(ready, (n) => n === before + 1)).toBe(before + 1);
    // Võ Minh Khoa held legacy number 201234567; his record sent again without it.
    await records(batch({ op: 'upsert', record: { idNumber: '048060000808', fullName: 'Võ Minh Khoa', dateOfBirth: '1960-09', gender: 'male' } }));
    const legacy = await within1s(() => verify({ idNumber: '201234567', fullName: 'Võ Minh Khoa', dateOfBirth: '1960-09-15' }), (r) => r.body.result === 'not_found');
    expect(legacy.body.result).toBe('not_found');
    await records(batch({ op: 'delete', idNumber: '001226000111' }));
    expect((await within1s(() => verify(born), (r) => r.body.result === 'not_found')).body.result).toBe('not_found');
    expect(await within1s(citizens, (n) => n === before)).toBe(before);
    expect(await within1s(ready, (n) => n === before)).toBe(before);
  });

  it('applies a re-sent batch once and answers it as the first time; the same key with other changes is a conflict', async () => {
    const sent = { idempotencyKey: 'resend-1', changes: [{ op: 'revokeCard', idNumber: '175092000909' }] };
    const first = await records(sent);
    const before = (await changes()).body.lastSequence;
    const again = await records(sent);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ ...first.body, requestId: again.body.requestId, replayed: true });
    expect((await changes()).body.lastSequence).toBe(before);
    const other = await records({ idempotencyKey: 'resend-1', changes: [{ op: 'delete', idNumber: '175092000909' }] });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('applies a batch that adds a citizen and then changes them (each change sees the ones before it)', async () => {
    const born = { idNumber: '001226000222', fullName: 'Đỗ Gia Bảo', dateOfBirth: '2026-11-25', gender: 'male' };
    const reply = await records(batch({ op: 'upsert', record: born }, { op: 'rename', idNumber: born.idNumber, fullName: 'Đỗ Gia Bảo An' }, { op: 'revokeCard', idNumber: born.idNumber }));
    expect(reply.status).toBe(200);
    expect(reply.body.applied).toBe(3);
    const renamed = await within1s(() => verify({ ...born, fullName: 'Đỗ Gia Bảo An' }), (r) => r.body.result === 'match');
    expect(renamed.body).toMatchObject({ result: 'match', status: { card: 'revoked' } });
    // A batch refused for another change lists only that one: the changes after a refused one are still checked against the ones before.
    const twin = { ...born, idNumber: '001226000333', fullName: 'Đỗ Gia Huy' };
    const refused = await records(batch({ op: 'deceased', idNumber: '001099000001' }, { op: 'upsert', record: twin }, { op: 'rename', idNumber: twin.idNumber, fullName: 'Đỗ Gia Huy An' }));
    expect(refused.status).toBe(422);
    expect(refused.body.error.items).toEqual([{ index: 0, code: 'NOT_IN_REGISTER', message: expect.any(String) }]);
    // Deleted, then a change about them in the same batch: nobody on record by then.
    const gone = await records(batch({ op: 'delete', idNumber: born.idNumber }, { op: 'deceased', idNumber: born.idNumber }));
    expect(gone.status).toBe(422);
    expect(gone.body.error.items).toEqual([{ index: 1, code: 'NOT_IN_REGISTER', message: expect.any(String) }]);
  });

  it('refuses names no claim could send back, and invisible marks that would decide where a word ends', async () => {
    const record = { idNumber: '001226000444', dateOfBirth: '2026-11-26', gender: 'male' };
    const reply = await records(batch(
      { op: 'upsert', record: { ...record, fullName: 'Khang' } },
      { op: 'upsert', record: { ...record, fullName: 'Lê\u200DMinh Khang' } },
      { op: 'rename', idNumber: '001090000101', fullName: 'Nguyễn\u0000 Văn An' },
    ));
    expect(reply.status).toBe(422);
    expect(reply.body.error.items.map((i: { index: number; code: string }) => [i.index, i.code])).toEqual([[0, 'INVALID_CHANGE'], [1, 'INVALID_CHANGE'], [2, 'INVALID_CHANGE']]);
    expect(JSON.stringify(reply.body)).not.toContain('Khang');
  });

  it('answers a re-sent batch whose JSON keys come in another order as the same batch', async () => {
    const first = await records({ idempotencyKey: 'resend-order', changes: [{ op: 'reissueCard', idNumber: '001085000505', cardIssueDate: '2026-11-02' }] });
    expect(first.status).toBe(200);
    const again = await records({ changes: [{ cardIssueDate: '2026-11-02', idNumber: '001085000505', op: 'reissueCard' }], idempotencyKey: 'resend-order' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ ...first.body, requestId: again.body.requestId, replayed: true });
  });

  it('refuses a batch with bad changes whole, naming each by its index, and applies nothing of it', async () => {
    const before = (await changes()).body.lastSequence;
    const reply = await records(batch(
      { op: 'rename', idNumber: '001305001010', fullName: 'Bùi Ngọc Ánh Dương' },
      { op: 'rename', idNumber: '001305001010' },
      { op: 'deceased', idNumber: '001099000001' },
      { op: 'explode', idNumber: '001305001010' },
    ));
    expect(reply.status).toBe(422);
    expect(reply.body.error.code).toBe('INVALID_CHANGES');
    expect(reply.body.error.items.map((i: { index: number }) => i.index)).toEqual([1, 3]);
    // Well-formed, but one names nobody on record: found while applying, and still nothing applied.
    const unknown = await records(batch({ op: 'rename', idNumber: '001305001010', fullName: 'Bùi Ngọc Ánh Dương' }, { op: 'deceased', idNumber: '001099000001' }));
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.items).toEqual([{ index: 1, code: 'NOT_IN_REGISTER', message: expect.any(String) }]);
    expect(JSON.stringify(unknown.body)).not.toContain('001099000001');
    expect((await changes()).body.lastSequence).toBe(before);
    expect((await verify({ idNumber: '001305001010', fullName: 'Bùi Ngọc Ánh', dateOfBirth: '2005-06-15' })).body.result).toBe('match');
  });

  it('is for the admin scope only', async () => {
    expect((await records(batch({ op: 'delete', idNumber: '001305001010' }), KEYS.full)).status).toBe(403);
    expect((await call(current.server.url, '/v1/changes', { key: KEYS.full })).status).toBe(403);
    expect((await records(batch({ op: 'delete', idNumber: '001305001010' }), 'no-such-key')).status).toBe(401);
  });
});

describe('GET /v1/changes', () => {
  it('reads every applied change in order, from any sequence number, a page at a time', async () => {
    const all = (await changes('?after=0&limit=1000')).body;
    expect(all.changes.length).toBe(all.lastSequence);
    expect(all.changes.map((c: { seq: number }) => c.seq)).toEqual(Array.from({ length: all.lastSequence }, (_, i) => i + 1));
    expect(all.changes[0]).toMatchObject({ v: 1, seq: 1, op: 'rename', idNumber: '001199000404', client: 'registrar', record: { fullName: 'Phạm Thị Mai Anh' } });
    expect(all.build).toMatch(/^build-/);
    const page = (await changes('?after=2&limit=2')).body;
    expect(page.changes.map((c: { seq: number }) => c.seq)).toEqual([3, 4]);
    expect(page.next).toBe(4);
    const deleted = all.changes.find((c: { op: string }) => c.op === 'delete');
    expect(deleted.record).toBeNull();
  });

  it('counts batches by outcome and changes applied in /metrics, and shows the last sequence number', async () => {
    const text = (await call(current.server.url, '/metrics')).body as string;
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    const last = (await changes()).body.lastSequence;
    expect(value('idv_register_changes_total')).toBe(last);
    expect(value('idv_register_last_sequence')).toBe(last);
    expect(value('idv_register_batches_total{outcome="replayed"}')).toBeGreaterThanOrEqual(1);
    expect(value('idv_register_batches_total{outcome="refused"}')).toBeGreaterThanOrEqual(2);
  });

  it('refuses a malformed position', async () => {
    for (const q of ['?after=-1', '?after=x', '?limit=0', '?limit=5000']) {
      const reply = await changes(q);
      expect(reply.status).toBe(422);
      expect(reply.body.error.code).toBe('VALIDATION_FAILED');
    }
  });
});
