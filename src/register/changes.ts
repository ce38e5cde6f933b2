import { checkCitizen, type Citizen } from '../domain/citizen.js';
import type { ValidateFunction } from 'ajv';
import { componentsAjv, withComponentIds } from '../contract/ajv.js';
import { registerNameProblem } from '../domain/textRules.js';
import { CHANGES, CITIZEN, IDEMPOTENCY_KEY, OPS } from '../contract/schemas.js';
import { rule } from '../contract/ajv.js';

/**
 * The changes the register sends: a whole record, or one event about a citizen already on
 * record. Each names the citizen by the 12-digit ID number.
 */
export type Change =
  | { op: 'upsert'; record: Citizen }
  | { op: 'deceased'; idNumber: string }
  | { op: 'revokeCard'; idNumber: string }
  | { op: 'reissueCard'; idNumber: string; cardIssueDate: string }
  | { op: 'rename'; idNumber: string; fullName: string }
  | { op: 'delete'; idNumber: string };

export type Op = Change['op'];
export { OPS };

/** A change refused, by its place in the batch; the message names fields, never values. */
export interface ChangeError {
  index: number;
  code: 'INVALID_CHANGE' | 'NOT_IN_REGISTER';
  message: string;
}

export interface ChangeBatch {
  idempotencyKey: string;
  changes: Change[];
}

// Each op's shape, compiled from the contract (the Citizen of an upsert referred to by name).
let compiled: Record<Op, ValidateFunction> | undefined;
function shapes(): Record<Op, ValidateFunction> {
  if (compiled) return compiled;
  const ajv = componentsAjv({ Citizen: CITIZEN });
  return (compiled = Object.fromEntries(OPS.map((op) => [op, ajv.compile(withComponentIds(CHANGES[op]))])) as Record<Op, ValidateFunction>);
}

/**
 * Reads a batch: `{ idempotencyKey, changes: [...] }`. A malformed envelope is one
 * message; malformed changes are listed each with its index, so that the sender can fix
 * them all at once.
 */
export function readBatch(body: unknown, maxChanges: number, currentYear = new Date().getUTCFullYear()): { batch: ChangeBatch } | { envelope: string; field: string } | { errors: ChangeError[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { envelope: 'the body must be a JSON object', field: 'body' };
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).find((k) => k !== 'idempotencyKey' && k !== 'changes');
  if (extra !== undefined) return { envelope: `unknown field ${JSON.stringify(extra.slice(0, 40))}`, field: extra.slice(0, 40) };
  if (typeof b.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(b.idempotencyKey)) {
    return { envelope: 'idempotencyKey is required: 1 to 128 letters, digits or . _ : -, unique per batch', field: 'idempotencyKey' };
  }
  if (!Array.isArray(b.changes) || b.changes.length === 0) return { envelope: 'changes must be a non-empty array', field: 'changes' };
  if (b.changes.length > maxChanges) return { envelope: `changes holds at most ${maxChanges} changes a batch`, field: 'changes' };
  const changes: Change[] = [];
  const errors: ChangeError[] = [];
  b.changes.forEach((raw, index) => {
    const read = readChange(raw, currentYear);
    if (typeof read === 'string') errors.push({ index, code: 'INVALID_CHANGE', message: read });
    else changes.push(read);
  });
  return errors.length ? { errors } : { batch: { idempotencyKey: b.idempotencyKey, changes } };
}

/** A change as its op's schema and the import rules take it, or why not (naming fields, never values). */
function readChange(raw: unknown, currentYear: number): Change | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'a change must be a JSON object';
  const r = raw as Record<string, unknown>;
  if (!OPS.includes(r.op as Op)) return `op must be one of ${OPS.join(', ')}`;
  const op = r.op as Op;
  const shape = shapes()[op];
  // The record of an upsert is judged by the import rules below, which say more.
  const problems = shape(r) ? [] : shape.errors!.filter((e) => !e.instancePath.startsWith('/record/'));
  const extra = problems.find((e) => e.keyword === 'additionalProperties');
  if (extra) return `unknown field ${JSON.stringify(String(extra.params.additionalProperty).slice(0, 40))} for op ${op}`;
  const missing = problems.find((e) => e.keyword === 'required' && e.instancePath === '');
  if (missing) return `${missing.params.missingProperty} is required for op ${op}`;
  const wrong = problems[0];
  if (wrong) return `${wrong.instancePath.slice(1).replaceAll('/', '.')} ${rule(wrong)}`;
  if (op === 'upsert') {
    const check = checkCitizen(r.record, currentYear);
    return check.ok ? { op, record: check.citizen } : `record: ${check.reason}`;
  }
  // A new name by the import rules' own test, so it is refused with the batch's other malformed changes.
  const name = op === 'rename' ? registerNameProblem(r.fullName as string) : undefined;
  if (name) return `fullName ${name}`;
  return r as Change;
}

/**
 * The record after a change, or null when the change removes it. The result goes
 * through the import rules again (a new name must be one the register could hold);
 * a string says why it cannot.
 */
export function changedRecord(change: Change, before: Citizen | undefined, currentYear: number): Citizen | null | Omit<ChangeError, 'index'> {
  if (change.op === 'upsert') return change.record;
  if (!before) return { code: 'NOT_IN_REGISTER', message: `no citizen with this idNumber is on record (op ${change.op})` };
  if (change.op === 'delete') return null;
  const after: Citizen = { ...before };
  // A status changes nothing the import rules look at: the record stays as valid as it was.
  if (change.op === 'deceased') return Object.assign(after, { status: 'deceased' });
  if (change.op === 'revokeCard') return Object.assign(after, { cardStatus: 'revoked' });
  if (change.op === 'reissueCard') Object.assign(after, { cardIssueDate: change.cardIssueDate, cardStatus: 'valid' });
  else if (change.op === 'rename') after.fullName = change.fullName;
  const check = checkCitizen(after, currentYear);
  return check.ok ? check.citizen : { code: 'INVALID_CHANGE', message: `the changed record: ${check.reason}` };
}
