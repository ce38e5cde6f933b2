import { claimOf } from '../helpers/fixtures.js';
import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metrics } from '../../src/service/metrics.js';
import { PACKAGE_ROOT } from '../../src/packageFiles.js';
import { CandidateRefs } from '../../src/verification/candidateRef.js';
import { call, fixtureServer, KEYS, type Reply } from '../helpers/server.js';
import { CONTRACT } from '../helpers/contract.js';

const current = fixtureServer();

const post = (path: string, body: unknown, key = KEYS.full) => call(current.server.url, path, { key, body });

/** Every 200 answer must follow the published OpenAPI document. */
function conforms(reply: Reply, path: string): Reply {
  return CONTRACT.conforms(reply, path, path.startsWith('/v1') ? 'post' : 'get');
}

describe('POST /v1/verify', () => {
  const verify = async (body: unknown) => conforms(await post('/v1/verify', body), '/v1/verify');

  it('answers match with one entry per field sent, and the record status', async () => {
    const { status, body } = await verify({
      idNumber: '001090000101', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17', gender: 'male',
      placeOfOrigin: 'Nam Định', placeOfResidence: 'Hà Nội', legacyIdNumber: '012345678', cardIssueDate: '2021-04-01',
      purpose: 'account-opening', consentRef: 'consent-2026-0001',
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      requestId: expect.any(String),
      result: 'match',
      fields: {
        fullName: { match: true, level: 'exact', score: 100 },
        dateOfBirth: { match: true, precision: 'day' },
        gender: { match: true },
        placeOfOrigin: { match: true, score: 100 },
        placeOfResidence: { match: true, score: 100 },
        legacyIdNumber: { match: true },
        cardIssueDate: { match: true },
      },
      status: { alive: true, card: 'valid' },
    });
  });

  it('never returns a stored value the client did not send', async () => {
    const { body } = await verify({ ...claimOf('001090000101'), gender: 'male' });
    expect(Object.keys(body.fields)).toEqual(['fullName', 'dateOfBirth', 'gender']);
    const text = JSON.stringify(body);
    for (const stored of ['Nguyễn', '1990-05-17', 'Nam Định', '012345678', '2021-04-01']) expect(text).not.toContain(stored);
  });

  it('answers mismatch when any field sent differs', async () => {
    const { body } = await verify({ ...claimOf('001090000101'), fullName: 'Nguyen Van An', dateOfBirth: '1990-05-18' });
    expect(body.result).toBe('mismatch');
    expect(body.fields).toEqual({ fullName: { match: true, level: 'normalized', score: 100 }, dateOfBirth: { match: false, precision: 'day' } });
  });

  it('answers not_found for a well-formed number nobody has', async () => {
    const { body } = await verify({ idNumber: '001090999999', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' });
    expect(body).toEqual({ requestId: expect.any(String), result: 'not_found', fields: {} });
  });

  it('answers partial for a full claimed date against a registered year, and says so', async () => {
    const { body } = await verify({ ...claimOf('036045000303'), fullName: 'Lê Văn Hoà', dateOfBirth: '1945-03-05' });
    expect(body.result).toBe('partial');
    expect(body.fields.dateOfBirth).toEqual({ match: true, precision: 'year' });
    expect(body.fields.fullName.level).toBe('exact');
    expect(body.status).toEqual({ alive: false, card: 'valid' });
  });

  it('refuses a claim of less than the full name and the full date of birth, naming what is missing', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ idNumber: '036045000303' }, 'fullName', /^fullName and dateOfBirth are required/],
      [{ idNumber: '036045000303', fullName: 'Lê Văn Hòa' }, 'dateOfBirth', /^dateOfBirth is required/],
      [{ idNumber: '036045000303', dateOfBirth: '1945-06-15' }, 'fullName', /^fullName is required/],
      [{ ...claimOf('036045000303'), dateOfBirth: '1945' }, 'dateOfBirth', /full date, YYYY-MM-DD/],
      [{ ...claimOf('036045000303'), dateOfBirth: '1945-06' }, 'dateOfBirth', /full date, YYYY-MM-DD/],
      [{ ...claimOf('036045000303'), fullName: 'Hòa' }, 'fullName', /family name and a given name/],
    ];
    for (const [body, field, message] of cases) {
      const refused = await post('/v1/verify', body);
      expect(refused.status).toBe(422);
      expect(refused.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field, message: expect.stringMatching(message) });
    }
    const search = await post('/v1/verify/demographic', { fullName: 'Lê Văn Hòa', dateOfBirth: '1945' });
    expect(search.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'dateOfBirth' });
  });

  it('tells whether the person lives and holds a valid card only when the claim identifies them', async () => {
    const right = await verify(claimOf('036045000303'));
    expect(right.body).toMatchObject({ result: 'partial', status: { alive: false, card: 'valid' } });
    const wrong = await verify({ ...claimOf('036045000303'), fullName: 'Trần Thị Thủy' });
    expect(wrong.body.result).toBe('mismatch');
    expect(wrong.body.status).toBeUndefined();
  });

  it('flags a date of birth with day and month swapped, and refuses it', async () => {
    const { body } = await verify({ ...claimOf('079190000202'), dateOfBirth: '1990-02-11' });
    expect(body.result).toBe('mismatch');
    expect(body.fields.dateOfBirth).toEqual({ match: false, precision: 'day', transposed: true });
    const other = await verify({ ...claimOf('079190000202'), dateOfBirth: '1990-02-12' });
    expect(other.body.fields.dateOfBirth).toEqual({ match: false, precision: 'day' });
  });

  it('finds a citizen by a 9-digit legacy number sent as idNumber, and says so', async () => {
    const { body } = await verify({ idNumber: '012345678', fullName: 'Nguyen Van An', dateOfBirth: '1990-05-17' });
    expect(body).toMatchObject({ result: 'match', identifiedBy: 'legacyIdNumber' });
    expect(body.fields.fullName.level).toBe('normalized');
    expect((await verify({ ...claimOf('001090000101'), idNumber: '012345679' })).body).toMatchObject({ result: 'not_found', fields: {} });
    expect((await verify(claimOf('001090000101'))).body.identifiedBy).toBeUndefined();
  });

  it('reports expired and revoked cards', async () => {
    expect((await verify(claimOf('001199000404'))).body.status).toEqual({ alive: true, card: 'expired' });
    expect((await verify(claimOf('001085000505'))).body.status).toEqual({ alive: true, card: 'revoked' });
  });

  it('applies options.nameThreshold, down to the floor', async () => {
    // Two slips (84) against "Nguyễn Văn An": under the default 85, over the floor 80.
    const lenient = await verify({ ...claimOf('001090000101'), fullName: 'Ngyen Van Am', options: { nameThreshold: 80 } });
    const strict = await verify({ ...claimOf('001090000101'), fullName: 'Ngyen Van Am' });
    expect(lenient.body.fields.fullName).toMatchObject({ match: true, level: 'fuzzy', score: 84 });
    expect(strict.body.fields.fullName).toMatchObject({ match: false, level: 'none' });
    expect(strict.body.result).toBe('mismatch');
    const below = await post('/v1/verify', { ...claimOf('001090000101'), fullName: 'Nguyễn Văn Bình', options: { nameThreshold: 0 } });
    expect(below.status).toBe(422);
    expect(below.body.error).toMatchObject({ field: 'options.nameThreshold', message: 'options.nameThreshold must be an integer from 80 to 100' });
  });

  it('shows numeric scores only to a client whose entry allows them', async () => {
    const claim = { ...claimOf('001090000101'), fullName: 'Ngyen Van Am', placeOfResidence: 'Hà Nội', purpose: 'kyc-refresh', consentRef: 'c-1' };
    const hidden = await call(current.server.url, '/v1/verify', { key: KEYS.consenting, body: claim });
    expect(hidden.body.fields).toEqual({ fullName: { match: false, level: 'none' }, dateOfBirth: { match: true, precision: 'day' }, placeOfResidence: { match: true } });
    const shown = await verify(claim);
    expect(shown.body.fields.fullName.score).toBe(84);
    const batch = await call(current.server.url, '/v1/verify/batch', { key: KEYS.consenting, body: { purpose: 'kyc-refresh', consentRef: 'c-1', items: [{ type: 'id', ...claim }] } });
    expect(JSON.stringify(batch.body)).not.toContain('score');
  });

  it('speaks msgpack both ways, and follows Accept', async () => {
    const raw = pack({ ...claimOf('079190000202'), fullName: 'TRẦN THỊ THUỶ', gender: 'female' });
    const both = await call(current.server.url, '/v1/verify', { key: KEYS.full, raw, contentType: 'application/msgpack' });
    expect(both.headers.get('content-type')).toBe('application/msgpack');
    expect(both.body).toMatchObject({ result: 'match', fields: { fullName: { level: 'exact' }, gender: { match: true } } });
    const asJson = await call(current.server.url, '/v1/verify', { key: KEYS.full, raw, contentType: 'application/msgpack', accept: 'application/json' });
    expect(asJson.headers.get('content-type')).toBe('application/json');
    expect(asJson.body.result).toBe('match');
    const jsonToMsgpack = await call(current.server.url, '/v1/verify', { key: KEYS.full, body: claimOf('079190000202'), accept: 'application/msgpack' });
    expect(jsonToMsgpack.headers.get('content-type')).toBe('application/msgpack');
    expect(jsonToMsgpack.body.result).toBe('match');
  });
});

describe('POST /v1/verify/demographic', () => {
  const search = async (body: unknown) => conforms(await post('/v1/verify/demographic', body), '/v1/verify/demographic');
  /** Whom the candidates of an answer to bank-a name: the test holds the index secret. */
  const named = (body: { candidates: { candidateRef: string }[] }, client = 'bank-a') => {
    const refs = new CandidateRefs(current.index.secret.bytes);
    return body.candidates.map((c) => refs.open(c.candidateRef, client));
  };

  it('finds a unique person and names them by a reference, not by digits of the ID number', async () => {
    const { body } = await search({ fullName: 'nguyen van an', dateOfBirth: '1990-05-17' });
    expect(body).toEqual({ requestId: expect.any(String), result: 'unique', total: 1, candidates: [{ candidateRef: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), score: 100 }] });
    expect(named(body)).toEqual(['001090000101']);
    expect(JSON.stringify(body)).not.toMatch(/001|101/);
  });

  it('lets the searching client verify a candidate by its reference, and no other client', async () => {
    const { body } = await search({ fullName: 'Nguyễn Thị Hương', dateOfBirth: '1995-08-08' });
    const [first] = body.candidates;
    const claim = { candidateRef: first.candidateRef, fullName: 'Nguyễn Thị Hương', dateOfBirth: '1995-08-08' };
    expect((await post('/v1/verify', claim)).body).toMatchObject({ result: 'match', fields: { fullName: { match: true } } });
    const elsewhere = await post('/v1/verify', claim, KEYS.verifyOnly);
    expect(elsewhere.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'candidateRef' });
    const forged = await post('/v1/verify', { ...claim, candidateRef: first.candidateRef.slice(0, -2) + (first.candidateRef.endsWith('AA') ? 'AB' : 'AA') });
    expect(forged.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'candidateRef' });
    const both = await post('/v1/verify', { ...claim, idNumber: '001090000101' });
    expect(both.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'candidateRef' });
  });

  it('finds a person under a misspelt surname or given name', async () => {
    const confused = await search({ fullName: 'Chần Thị Thủy', dateOfBirth: '1990-11-02' });
    expect(confused.body.result).toBe('unique');
    expect(named(confused.body)).toEqual(['079190000202']);
    expect(confused.body.candidates[0].score).toBeLessThan(100);
    const typed = await search({ fullName: 'Nguyen Van Ab', dateOfBirth: '1990-05-17' });
    expect(typed.body.result).toBe('unique');
    expect(named(typed.body)).toEqual(['001090000101']);
    const nobody = await search({ fullName: 'Nguyen Van Xyz', dateOfBirth: '1990-05-17' });
    expect(nobody.body).toMatchObject({ result: 'none', total: 0, candidates: [] });
  });

  it('lists at most options.maxCandidates and counts them all', async () => {
    const one = await search({ fullName: 'Nguyễn Thị Hương', dateOfBirth: '1995-08-08', options: { maxCandidates: 1 } });
    expect(one.body).toMatchObject({ result: 'ambiguous', total: 2 });
    // Equal scores, in the index's order (which means nothing): one of the two.
    expect(named(one.body)).toHaveLength(1);
    expect(['001195000606', '030195000707']).toContain(named(one.body)[0]);
    const bad = await post('/v1/verify/demographic', { fullName: 'Nguyễn Thị Hương', dateOfBirth: '1995-08-08', options: { maxCandidates: 101 } });
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'options.maxCandidates' });
    const onId = await post('/v1/verify', { ...claimOf('001090000101'), options: { maxCandidates: 3 } });
    expect(onId.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'options.maxCandidates' });
  });

  it('answers ambiguous for two people with the same name and birthday, and tells them apart by province', async () => {
    const both = await search({ fullName: 'Nguyễn Thị Hương', dateOfBirth: '1995-08-08' });
    expect(both.body.result).toBe('ambiguous');
    expect(named(both.body).sort()).toEqual(['001195000606', '030195000707']);
    const one = await search({ fullName: 'Nguyễn Thị Hương', dateOfBirth: '1995-08-08', provinceCode: '030' });
    expect(one.body.result).toBe('unique');
    expect(named(one.body)).toEqual(['030195000707']);
  });

  it('finds people registered with a year or a month only', async () => {
    expect((await search({ fullName: 'Le Van Hoa', dateOfBirth: '1945-03-05' })).body.result).toBe('unique');
    expect((await search({ fullName: 'Võ Minh Khoa', dateOfBirth: '1960-09-12', gender: 'male' })).body.result).toBe('unique');
  });

  it('finds a person under a dropped middle name or swapped order', async () => {
    const dropped = await search({ fullName: 'Nguyễn An', dateOfBirth: '1990-05-17' });
    expect(dropped.body.result).toBe('unique');
    expect(dropped.body.candidates[0].score).toBeLessThan(100);
    expect((await search({ fullName: 'An Nguyen Van', dateOfBirth: '1990-05-17' })).body.result).toBe('unique');
  });

  it('answers none when nobody agrees', async () => {
    expect((await search({ fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-18' })).body).toMatchObject({ result: 'none', candidates: [] });
    expect((await search({ fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17', gender: 'female' })).body.result).toBe('none');
  });
});

describe('POST /v1/verify/batch', () => {
  it('answers every item in order; a bad item gets its own error and the others succeed', async () => {
    const reply = conforms(
      await post('/v1/verify/batch', {
        purpose: 'kyc-refresh',
        items: [
          { type: 'id', ...claimOf('001090000101'), fullName: 'Nguyễn Văn An' },
          { type: 'id', idNumber: '00109000010' },
          { type: 'demographic', fullName: 'Trần Thị Thủy', dateOfBirth: '1990-11-02' },
          { type: 'passport', number: 'x' },
          { type: 'id', ...claimOf('079190000202'), fullname: 'typo' },
          'not an object',
          { type: 'id', idNumber: '001090999999', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' },
        ],
      }),
      '/v1/verify/batch',
    );
    expect(reply.status).toBe(200);
    const r = reply.body.results;
    expect(r).toHaveLength(7);
    expect(r[0]).toMatchObject({ type: 'id', result: 'match', fields: { fullName: { level: 'exact' } } });
    expect(r[1]).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'idNumber must be a string of 12 digits, or of 9 for a legacy number', field: 'idNumber' } });
    expect(r[2]).toMatchObject({ type: 'demographic', result: 'unique', candidates: [{ candidateRef: expect.any(String) }] });
    expect(r[3].error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'type' });
    expect(r[4].error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'fullname' });
    expect(r[5].error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'item' });
    expect(r[6]).toMatchObject({ type: 'id', result: 'not_found' });
  });

  it('refuses items outside the key scopes one by one', async () => {
    const items = [
      { type: 'id', ...claimOf('001090000101') },
      { type: 'demographic', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' },
    ];
    const { status, body } = await post('/v1/verify/batch', { items }, KEYS.batchNoDemographic);
    expect(status).toBe(200);
    expect(body.results[0]).toMatchObject({ type: 'id', result: 'match' });
    expect(body.results[1]).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
  });

  it('answers a batch of 1,000 items', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ type: 'id', ...claimOf(i % 2 ? '001090000101' : '079190000202'), gender: 'male' }));
    const { status, body } = await post('/v1/verify/batch', { items });
    expect(status).toBe(200);
    expect(body.results).toHaveLength(1000);
    expect(body.results[0].result).toBe('mismatch');
    expect(body.results[1].result).toBe('match');
  });
});

describe('operational endpoints', () => {
  it('GET /healthz', async () => {
    const reply = conforms(await call(current.server.url, '/healthz'), '/healthz');
    expect(reply).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('GET /readyz reports the open index', async () => {
    const reply = conforms(await call(current.server.url, '/readyz'), '/readyz');
    expect(reply).toMatchObject({ status: 200, body: { status: 'ready', records: 10 } });
  });

  it('GET /metrics exposes request, result and admission metrics without personal data', async () => {
    await post('/v1/verify', { ...claimOf('001090000101'), fullName: 'Nguyễn Văn An' });
    const { status, body } = await call(current.server.url, '/metrics');
    expect(status).toBe(200);
    expect(body).toMatch(/idv_http_requests_total\{route="\/v1\/verify",status="200"\} \d+/);
    expect(body).toMatch(/idv_verification_results_total\{kind="id",result="match"\} \d+/);
    expect(body).toMatch(/idv_inflight_items \d+/);
    expect(body).not.toMatch(/idv_pool_/);
    expect(body).toMatch(/idv_index_records 10/);
    expect(body).not.toContain('001090000101');
    expect(body).not.toContain('Nguy');
  });

  it('GET /openapi.json serves OpenAPI 3.1 describing every route', async () => {
    const { status, body } = await call(current.server.url, '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths).sort()).toEqual(['/healthz', '/metrics', '/openapi.json', '/readyz', '/v1/changes', '/v1/records', '/v1/verify', '/v1/verify/batch', '/v1/verify/demographic']);
  });

  it('exposes every metric the Grafana dashboard and the alert rules use (those of the change stream where there is one)', async () => {
    const { body } = await call(current.server.url, '/metrics');
    const exposed = new Set((body as string).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]));
    // The change stream's series exist only on an instance started with --nats (test/ops/prometheus.test.ts scrapes a primary and a replica).
    const streamOnly = new Set(new Metrics({ process: false }).enableReplication().names());
    expect(streamOnly.size).toBeGreaterThan(5);
    const files = ['grafana/dashboards/idv-overview.json', 'grafana/alerts.yml'].map((f) => readFileSync(join(PACKAGE_ROOT, f), 'utf8'));
    const used = new Set(files.flatMap((text) => text.match(/idv_[a-z0-9_]+/g) ?? []).map((name) => name.replace(/_(bucket|sum|count)$/, '')));
    expect(used.size).toBeGreaterThan(8);
    expect([...used].filter((name) => !exposed.has(name) && !exposed.has(`${name}_bucket`) && !streamOnly.has(name))).toEqual([]);
    for (const name of streamOnly) expect(exposed.has(name), `${name} on a server without a stream`).toBe(false);
  });
});
