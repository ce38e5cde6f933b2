import { describe, expect, it } from 'vitest';
import { validateEntries } from '../../src/clients/clients.js';

const key = 'a'.repeat(64);
const entry = (extra: Record<string, unknown> = {}) => ({ id: 'bank', keySha256: key, scopes: ['verify'], ...extra });

describe('the clients file', () => {
  it('takes entries as they are written', () => {
    const entries = [entry({ ratePerSecond: 50, purposes: ['kyc'], consentRequired: false }), { id: 'telco', keySha256: 'b'.repeat(64), scopes: [] }];
    expect(validateEntries({ clients: entries }, 'F')).toEqual(entries);
  });

  it.each([
    [null, 'expected {"clients": [...]}'],
    [{ clients: {} }, 'expected {"clients": [...]}'],
    [{ clients: [entry({ id: '' })] }, 'clients[0].id must not be empty'],
    [{ clients: [entry({ keySha256: key.toUpperCase() })] }, 'clients[0].keySha256 must be 64 lowercase hex characters'],
    [{ clients: [entry({ scopes: ['verify', 'root'] })] }, 'clients[0].scopes[1] must be "verify", "demographic", "batch" or "admin"'],
    [{ clients: [entry({ dailyQuota: 0 })] }, 'clients[0].dailyQuota must be a number above 0'],
    [{ clients: [entry({ purposes: [] })] }, 'clients[0].purposes must not be empty'],
    [{ clients: [entry({ purposes: ['Opening!'] })] }, 'clients[0].purposes[0] must be a short code'],
    [{ clients: [entry({ scores: 'yes' })] }, 'clients[0].scores must be a boolean'],
    [{ clients: [entry(), entry({ nickname: 'x' })] }, 'clients[1] has unknown field nickname'],
    [{ clients: [{ id: 'bank', keySha256: key }] }, 'clients[0].scopes is required'],
    [{ clients: [entry(), entry({ keySha256: 'b'.repeat(64) })] }, "clients[1].id repeats another client's id"],
    [{ clients: [entry(), entry({ id: 'telco' })] }, "clients[1].keySha256 repeats another client's key"],
  ])('refuses %j, naming the entry and field', (content, message) => {
    expect(() => validateEntries(content, '/etc/idv/clients.json')).toThrow(`clients file /etc/idv/clients.json: ${message}`);
  });
});
