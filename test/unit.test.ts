import { describe, expect, it } from 'vitest';
import { ConfigError, serveConfig } from '../src/config.js';
import { sortEntries } from '../src/index/spill.js';
import { RecordCodec } from '../src/index/codec.js';
import { Dictionary } from '../src/index/dictionary.js';
import { RateLimiter, type Limits } from '../src/server/rateLimit.js';
import { requestFormat, responseFormat } from '../src/server/codec.js';
import { ClientRegistry, sha256Hex } from '../src/server/clients.js';
import { ClientTable } from '../src/server/clientTable.js';
import type { Citizen } from '../src/domain/citizen.js';

describe('serveConfig', () => {
  const base = { indexDir: '/x', secretFile: '/y', clientsFile: '/z' };
  it('fills defaults and freezes', () => {
    const c = serveConfig(base);
    expect(c.port).toBe(8080);
    expect(Object.isFrozen(c)).toBe(true);
  });
  it.each([
    [{ ...base, prot: 1 }, 'invalid option prot: unknown option'],
    [{ ...base, port: 70000 }, 'invalid option port: expected an integer from 0 to 65535'],
    [{ ...base, dispatch: 'cluster' }, 'invalid option dispatch: expected one of threads, pool, inline'],
    [{ indexDir: '/x' }, 'invalid option secretFile: required'],
    [{ indexDir: '/x', secretFile: '/y' }, 'invalid option clientsFile: required (give --clients FILE; --demo starts a throwaway demo client instead)'],
  ])('refuses %o', (input, message) => {
    expect(() => serveConfig(input)).toThrow(ConfigError);
    expect(() => serveConfig(input)).toThrow(message);
  });
  it('reads numbers given as strings (flags, environment)', () => {
    expect(serveConfig({ ...base, port: '9090' }).port).toBe(9090);
  });
});

describe('sortEntries', () => {
  it('orders entries that tie on their first five bytes by the rest', () => {
    const entries = [
      [1, 2, 3, 4, 5, 9, 0],
      [1, 2, 3, 4, 5, 1, 7],
      [0, 0, 0, 0, 0, 0, 0],
      [1, 2, 3, 4, 5, 1, 2],
      [255, 0, 0, 0, 0, 0, 0],
    ];
    const data = Buffer.from(entries.flat());
    const starts = Uint32Array.from(entries.map((_, i) => i * 7));
    const order = [...sortEntries(data, starts, 7)];
    expect(order.map((i) => entries[i])).toEqual([...entries].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });
});

describe('record codec', () => {
  const codec = new RecordCodec(Dictionary.standard());
  const roundTrip = (c: Citizen) => codec.decode(codec.encode(c));

  it('round-trips every field, and leaves absent ones absent', () => {
    const full: Citizen = {
      idNumber: '001090000101', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17', gender: 'male',
      placeOfOrigin: 'Nam Định', placeOfResidence: 'Thành phố Hà Nội', legacyIdNumber: '012345678', cardIssueDate: '2021-04-01',
      status: 'deceased', cardStatus: 'revoked',
    };
    expect(roundTrip(full)).toEqual(full);
    const minimal: Citizen = { idNumber: '001190000101', fullName: 'Lê Thị B', dateOfBirth: '1990', gender: 'female', status: 'alive', cardStatus: 'valid' };
    expect(roundTrip(minimal)).toEqual(minimal);
    const onlyIssue = { ...minimal, dateOfBirth: '1990-07', cardIssueDate: '2020-01-01' };
    expect(roundTrip(onlyIssue)).toEqual(onlyIssue);
  });

  it('keeps words, places and numbers outside the dictionary exactly', () => {
    const odd: Citizen = {
      idNumber: '295100000000', fullName: 'Nguyễn  Zxy-Ābc Ð', dateOfBirth: '1900-01-01', gender: 'female',
      placeOfOrigin: 'Ấp 3, xã Tân Phú', placeOfResidence: 'Tỉnh Hoà Bình', legacyIdNumber: '001090000101',
      status: 'alive', cardStatus: 'valid',
    };
    expect(roundTrip(odd)).toEqual(odd);
  });

  it('stores a typical citizen in under 40 bytes', () => {
    const typical: Citizen = {
      idNumber: '001090000101', fullName: 'Nguyễn Thị Thu Hương', dateOfBirth: '1990-05-17', gender: 'female',
      placeOfOrigin: 'Nam Định', placeOfResidence: 'Thành phố Hà Nội', legacyIdNumber: '012345678', cardIssueDate: '2021-04-01',
      status: 'alive', cardStatus: 'valid',
    };
    expect(codec.encode(typical).length).toBeLessThan(40);
  });
});

describe('RateLimiter', () => {
  const client = (limits: Partial<Limits> = {}) => ({ id: 'c', scopes: new Set<never>(), consentRequired: false, scores: false, limits: { ratePerSecond: 10, burst: 2, dailyQuota: 1e9, mismatchesPerCitizen: 5, emptySearchesPerName: 20, notFoundPerHour: 100, ...limits } });

  it('allows a burst, then the sustained rate, and says when to come back', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const c = client();
    expect([limiter.take(c), limiter.take(c)]).toEqual([undefined, undefined]);
    expect(limiter.take(c)).toEqual({ reason: 'rate', retryAfterSeconds: 1 });
    now += 100; // 0.1 s refills one token
    expect([limiter.take(c), limiter.take(c)]).toEqual([undefined, { reason: 'rate', retryAfterSeconds: 1 }]);
  });

  it('counts batch items: a batch above the burst passes on a full bucket and leaves it in debt', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const c = client({ ratePerSecond: 100, burst: 50 });
    expect(limiter.take(c, 500)).toBeUndefined();
    expect(limiter.take(c)).toEqual({ reason: 'rate', retryAfterSeconds: 5 }); // 450 in debt + 1 at 100/s
    now += 5_000;
    expect(limiter.take(c)).toBeUndefined();
  });

  it('refuses past the daily quota until 00:00 UTC', () => {
    let wall = Date.UTC(2026, 10, 27, 23, 59, 0);
    const limiter = new RateLimiter(() => wall, () => wall);
    const c = client({ ratePerSecond: 1e6, burst: 1e6, dailyQuota: 3 });
    expect(limiter.take(c, 3)).toBeUndefined();
    expect(limiter.take(c)).toEqual({ reason: 'quota', retryAfterSeconds: 60 });
    wall += 60_000;
    expect(limiter.take(c)).toBeUndefined();
  });
});

describe('content negotiation', () => {
  it.each([
    ['application/json', 'json'], ['application/json; charset=utf-8', 'json'], ['Application/MsgPack', 'msgpack'],
    ['application/x-msgpack', 'msgpack'], ['text/plain', undefined], ['', undefined],
  ])('Content-Type %s → %s', (header, format) => expect(requestFormat(header)).toBe(format));
  it.each([
    ['', 'msgpack', 'msgpack'], ['*/*', 'json', 'json'], ['application/msgpack', 'json', 'msgpack'],
    ['text/html, application/json;q=0.9', 'msgpack', 'json'],
  ] as const)('Accept %s with a %s request → %s', (accept, fallback, format) => expect(responseFormat(accept, fallback)).toBe(format));
});

const PROBING = { mismatchesPerCitizen: 5, emptySearchesPerName: 20, notFoundPerHour: 100 };

describe('ClientTable', () => {
  it('counts not_found answers over the last hour by the minute, and says when enough of them have left it', () => {
    const table = new ClientTable();
    const t0 = Date.UTC(2026, 10, 27, 10, 0, 30);
    for (let i = 0; i < 3; i++) table.notFound('c', t0, true, 5);
    for (let i = 0; i < 2; i++) table.notFound('c', t0 + 10 * 60_000, true, 5);
    // Five in the hour: the oldest three leave it at 11:00:00, 2,970 s after the last two came (10:10:30).
    expect(table.notFound('c', t0 + 10 * 60_000, false, 5)).toEqual({ count: 5, retryAfterSeconds: 2970 });
    expect(table.notFound('c', t0 + 59 * 60_000, false, 5).count).toBe(5);
    expect(table.notFound('c', t0 + 60 * 60_000, false, 5)).toEqual({ count: 2, retryAfterSeconds: 0 });
    expect(table.notFound('c', t0 + 70 * 60_000, false, 5).count).toBe(0);
    // Another client, and a second view of the same memory (another thread), see their own and the same counts.
    expect(table.notFound('d', t0, false, 5).count).toBe(0);
    expect(new ClientTable(table.buffer).notFound('c', t0 + 10 * 60_000, false, 5).count).toBe(5);
  });
});

describe('ClientRegistry', () => {
  it('authenticates by key hash only', () => {
    const registry = new ClientRegistry([{ id: 'a', keySha256: sha256Hex('k1'), scopes: ['verify'] }], { ...PROBING, ratePerSecond: 1, burst: 1, dailyQuota: 1 });
    expect(registry.authenticate('Bearer k1')?.id).toBe('a');
    expect(registry.authenticate('Bearer k2')).toBeUndefined();
    expect(registry.authenticate('k1')).toBeUndefined();
    expect(registry.authenticate('Bearer ')).toBeUndefined();
  });

  it('gives an entry without limits the defaults, and swaps clients at once on replace', () => {
    const registry = new ClientRegistry([{ id: 'a', keySha256: sha256Hex('k1'), scopes: ['verify'], ratePerSecond: 5 }], { ...PROBING, ratePerSecond: 1, burst: 2, dailyQuota: 3 });
    expect(registry.authenticate('Bearer k1')?.limits).toEqual({ ...PROBING, ratePerSecond: 5, burst: 5, dailyQuota: 3 });
    registry.replace([{ id: 'b', keySha256: sha256Hex('k2'), scopes: ['batch'] }]);
    expect(registry.authenticate('Bearer k1')).toBeUndefined();
    expect(registry.authenticate('Bearer k2')).toMatchObject({ id: 'b', limits: { ratePerSecond: 1, burst: 2, dailyQuota: 3 } });
  });
});

describe('runItems', () => {
  it('answers a failing item with INTERNAL and still answers the others', async () => {
    const { runItems } = await import('../src/verification/engine.js');
    const reader = {
      byId: (id: string) => {
        if (id === '001090000999') throw new Error('disk error');
        return undefined;
      },
    } as unknown as import('../src/index/reader.js').IndexReader;
    const options = { nameThreshold: 85, maxCandidates: 10 };
    const claim = { fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' };
    const results = runItems(reader, [
      { type: 'id', claim: { ...claim, idNumber: '001090000999' }, options },
      { type: 'id', claim: { ...claim, idNumber: '001090000101' }, options },
    ]);
    expect(results).toEqual([{ error: { code: 'INTERNAL', message: 'Internal error' } }, { result: 'not_found', fields: {} }]);
  });
});

describe('QueueDelayGuard', () => {
  it('sheds while the answers of a window waited past the target on average, and recovers', async () => {
    const { QueueDelayGuard } = await import('../src/server/dispatch.js');
    let now = 0;
    const guard = new QueueDelayGuard(10, 100, () => now);
    guard.record(15);
    guard.record(2); // mean 8.5: a burst, not a standing queue
    now = 100;
    expect(guard.shedding).toBe(false);
    guard.record(15);
    guard.record(30);
    now = 200;
    expect(guard.shedding).toBe(true);
    now = 300; // a window without answers: the queue has drained
    expect(guard.shedding).toBe(false);
  });
});

describe('checkIdClaim by a legacy number held by two citizens', () => {
  it('answers for the holder the claim fits best, and says it was found by the legacy number', async () => {
    const { checkIdClaim } = await import('../src/verification/idCheck.js');
    const holder = (idNumber: string, fullName: string, dateOfBirth: string) =>
      ({ idNumber, fullName, dateOfBirth, gender: 'male', status: 'alive', cardStatus: 'valid', legacyIdNumber: '012345678' }) as const;
    const records = [holder('001090000101', 'Nguyễn Văn An', '1990-05-17'), holder('079085000202', 'Trần Văn Bình', '1985-01-02')];
    const today = { year: 2026, month: 11, day: 27, precision: 'day' as const };
    const options = { nameThreshold: 85, maxCandidates: 20 };
    const second = checkIdClaim(records, { idNumber: '012345678', fullName: 'Tran Van Binh', dateOfBirth: '1985-01-02' }, options, today);
    expect(second).toMatchObject({ result: 'match', identifiedBy: 'legacyIdNumber', fields: { fullName: { level: 'normalized' } } });
    const neither = checkIdClaim(records, { idNumber: '012345678', fullName: 'Lê Văn Cường', dateOfBirth: '1985-01-02' }, options, today);
    expect(neither).toMatchObject({ result: 'mismatch', identifiedBy: 'legacyIdNumber' });
    expect(neither).not.toHaveProperty('status');
    expect(checkIdClaim([], { idNumber: '012345678', fullName: 'Lê Văn Cường', dateOfBirth: '1985-01-02' }, options, today)).toEqual({ result: 'not_found', fields: {} });
  });
});

describe('CandidateRefs', () => {
  it('names a person only to the client it was given to, for 24 hours, and refuses any altered token', async () => {
    const { CandidateRefs, REF_LIFETIME_MINUTES } = await import('../src/verification/candidateRef.js');
    const refs = new CandidateRefs(Buffer.alloc(32, 7));
    const now = Date.UTC(2026, 10, 27, 12, 0);
    const ref = refs.seal('001090000101', 'bank-a', now);
    expect(ref).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(refs.seal('001090000101', 'bank-a', now)).not.toBe(ref); // a fresh nonce each time: equal people are not linkable
    expect(refs.open(ref, 'bank-a', now)).toBe('001090000101');
    expect(refs.open(ref, 'bank-b', now)).toBeUndefined();
    expect(refs.open(ref, 'bank-a', now + REF_LIFETIME_MINUTES * 60_000 - 60_000)).toBe('001090000101');
    expect(refs.open(ref, 'bank-a', now + (REF_LIFETIME_MINUTES + 2) * 60_000)).toBeUndefined();
    expect(new CandidateRefs(Buffer.alloc(32, 8)).open(ref, 'bank-a', now)).toBeUndefined();
    for (let i = 0; i < ref.length; i += 7) {
      const altered = ref.slice(0, i) + (ref[i] === 'A' ? 'B' : 'A') + ref.slice(i + 1);
      expect(refs.open(altered, 'bank-a', now)).toBeUndefined();
    }
  });
});
