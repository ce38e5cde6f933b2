import { describe, expect, it } from 'vitest';
import { readBatch } from '../../src/register/changes.js';
import { CONTRACT } from '../helpers/contract.js';

/** The register's changes read by their op's schema from the contract, then by the import rules. */
const citizen = { idNumber: '001090000101', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17', gender: 'male' };
const batch = (...changes: unknown[]) => ({ idempotencyKey: 'k-1', changes });

describe('readBatch', () => {
  it('reads every op the contract describes, as the published schema does', () => {
    const changes = [
      { op: 'upsert', record: citizen },
      { op: 'deceased', idNumber: '001090000101' },
      { op: 'revokeCard', idNumber: '001090000101' },
      { op: 'reissueCard', idNumber: '001090000101', cardIssueDate: '2026-11-20' },
      { op: 'rename', idNumber: '001090000101', fullName: 'Nguyễn Văn Bình' },
      { op: 'delete', idNumber: '001090000101' },
    ];
    const read = readBatch(batch(...changes), 1000);
    expect(read).toMatchObject({ batch: { idempotencyKey: 'k-1' } });
    expect((read as { batch: { changes: unknown[] } }).batch.changes).toHaveLength(6);
    expect(CONTRACT.schemaProblems('RecordsRequest', batch(...changes))).toEqual([]);
  });

  it('names each malformed change by its index and its field, never its value', () => {
    const read = readBatch(
      batch(
        { op: 'deceased', idNumber: '001090000101', reason: 'x' },
        { op: 'reissueCard', idNumber: '001090000101' },
        { op: 'revokeCard', idNumber: '999090000101' },
        { op: 'reissueCard', idNumber: '001090000101', cardIssueDate: '2026-02-30' },
        { op: 'upsert', record: { ...citizen, gender: 'x' } },
        { op: 'promote', idNumber: '001090000101' },
        'deceased',
        { op: 'rename', idNumber: '001090000101', fullName: 7 },
      ),
      1000,
    );
    expect(read).toEqual({
      errors: [
        { index: 0, code: 'INVALID_CHANGE', message: 'unknown field "reason" for op deceased' },
        { index: 1, code: 'INVALID_CHANGE', message: 'cardIssueDate is required for op reissueCard' },
        { index: 2, code: 'INVALID_CHANGE', message: 'idNumber must be a valid 12-digit ID number' },
        { index: 3, code: 'INVALID_CHANGE', message: 'cardIssueDate must be a valid YYYY-MM-DD' },
        { index: 4, code: 'INVALID_CHANGE', message: expect.stringMatching(/^record: gender/) },
        { index: 5, code: 'INVALID_CHANGE', message: 'op must be one of upsert, deceased, revokeCard, reissueCard, rename, delete' },
        { index: 6, code: 'INVALID_CHANGE', message: 'a change must be a JSON object' },
        { index: 7, code: 'INVALID_CHANGE', message: 'fullName must be a string' },
      ],
    });
    expect(JSON.stringify(read)).not.toContain('999090000101');
  });

  it('refuses a malformed envelope in one message, and more changes than allowed', () => {
    expect(readBatch({ changes: [] }, 10)).toMatchObject({ field: 'idempotencyKey' });
    expect(readBatch(batch(), 10)).toMatchObject({ field: 'changes', envelope: 'changes must be a non-empty array' });
    expect(readBatch(batch(...Array.from({ length: 3 }, () => ({ op: 'delete', idNumber: '001090000101' }))), 2)).toMatchObject({ envelope: 'changes holds at most 2 changes a batch' });
  });
});
