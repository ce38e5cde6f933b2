import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Gender } from '../domain/idNumber.js';
import { validationError, type ServiceError } from '../errors.js';
import type { DemographicQuery, IdClaim, MatchOptions, WorkItem } from '../verification/types.js';
import { contractAjv, rule } from './ajv.js';
import { contractSchemas, type ContractLimits, type Schema } from './schemas.js';

type Body = Record<string, unknown>;

/** Why the client asks, and its reference to the citizen's consent: kept in the audit trail. */
export interface AuditContext {
  purpose?: string;
  consentRef?: string;
}

/** A validated verification, with what the audit trail keeps of it. */
export interface Validated {
  item: WorkItem;
  context: AuditContext;
  /** A verification of a person a search found: the reference stands for the ID number, resolved by the caller. */
  candidateRef?: string;
}

const CLAIM_FIELDS = ['fullName', 'dateOfBirth'];

/** `/options/nameThreshold` as the field name a message gives: `options.nameThreshold`. */
const fieldOf = (instancePath: string) => instancePath.slice(1).replaceAll('/', '.');

/**
 * The problem a client is told of: the first, in the order of the schema's fields (an
 * unknown field before all), as VALIDATION_FAILED naming the field. Messages describe
 * the rule, never the value sent (it may be personal data).
 */
function firstProblem(errors: ErrorObject[], body: Body, order: string[], root: string): ServiceError {
  const rank = (e: ErrorObject) => {
    if (e.keyword === 'type' && e.instancePath === '') return -2;
    if (e.keyword === 'additionalProperties') return -1;
    // A claim missing its name or date is told so before what is wrong inside either.
    if (e.keyword === 'required' && e.instancePath === '' && CLAIM_FIELDS.includes(String(e.params.missingProperty))) return order.indexOf(CLAIM_FIELDS[0]) - 0.5;
    const top = e.keyword === 'required' && e.instancePath === '' ? String(e.params.missingProperty) : e.keyword === 'oneOf' && e.instancePath === '' ? 'idNumber' : e.instancePath.split('/')[1];
    const at = order.indexOf(top);
    return at === -1 ? order.length : at;
  };
  // A branch of the one-identifier rule says only "required": the oneOf error says it better.
  const considered = errors.filter((e) => !e.schemaPath.includes('/oneOf/'));
  const e = considered.reduce((best, next) => (rank(next) < rank(best) ? next : best));
  if (e.keyword === 'type' && e.instancePath === '') return validationError(root, `${root} must be an object`);
  if (e.keyword === 'additionalProperties') {
    const field = [fieldOf(e.instancePath), String(e.params.additionalProperty)].filter(Boolean).join('.');
    return validationError(field, `unknown field "${field}"`);
  }
  if (e.keyword === 'oneOf') {
    if (body.idNumber !== undefined) return validationError('candidateRef', 'give idNumber or candidateRef, not both');
    return validationError('idNumber', 'idNumber (or candidateRef) is required');
  }
  if (e.keyword === 'required') {
    const field = String(e.params.missingProperty);
    if (!CLAIM_FIELDS.includes(field)) return validationError(field, `${field} is required`);
    // Every part of the minimum claim that is missing, not only the first.
    const missing = CLAIM_FIELDS.filter((f) => body[f] === undefined);
    return validationError(missing[0], `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required: a claim states at least the full name and the full date of birth`);
  }
  const field = fieldOf(e.instancePath);
  return validationError(field, `${field} ${rule(e)}`);
}

const isObject = (value: unknown): value is Body => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The request validators, compiled once from the contract's schemas with the operator's
 * limits: bodies in, work items out, or VALIDATION_FAILED naming the field.
 */
export class RequestValidator {
  private readonly id: ValidateFunction;
  private readonly demographic: ValidateFunction;
  private readonly batchId: ValidateFunction;
  private readonly batchDemographic: ValidateFunction;
  private readonly batchEnvelope: ValidateFunction;
  private readonly order: Record<'id' | 'demographic' | 'batch', string[]>;
  private readonly defaultThreshold: number;
  private readonly defaultCandidates: number;

  constructor(limits: ContractLimits) {
    const schemas = contractSchemas(limits);
    const ajv = contractAjv();
    const compile = (schema: Schema) => ajv.compile(schema);
    this.id = compile(schemas.VerifyRequest);
    this.demographic = compile(schemas.DemographicRequest);
    this.batchId = compile(schemas.BatchIdItem);
    this.batchDemographic = compile(schemas.BatchDemographicItem);
    // The envelope alone: each item is checked by itself, so that a bad one gets its own error.
    const batch = schemas.BatchRequest as { properties: Record<string, Schema> };
    this.batchEnvelope = compile({ ...batch, properties: { ...batch.properties, items: { ...batch.properties.items, items: true } } });
    const fields = (schema: Schema) => Object.keys((schema as { properties: object }).properties);
    this.order = { id: fields(schemas.VerifyRequest), demographic: fields(schemas.DemographicRequest), batch: fields(schemas.BatchRequest) };
    const search = (schemas.DemographicRequest as { properties: { options: { properties: Record<string, { default: number }> } } }).properties.options.properties;
    this.defaultThreshold = search.nameThreshold.default;
    this.defaultCandidates = search.maxCandidates.default;
  }

  idItem(body: unknown): Validated {
    return this.toId(this.checked(this.id, body, this.order.id, 'body'));
  }

  demographicItem(body: unknown): Validated {
    return this.toDemographic(this.checked(this.demographic, body, this.order.demographic, 'body'));
  }

  /** A batch item carries its own type: "id" or "demographic". */
  batchItem(value: unknown): Validated {
    if (!isObject(value)) throw validationError('item', 'item must be an object');
    if (value.type === 'id') return this.toId(this.checked(this.batchId, value, ['type', ...this.order.id], 'item'));
    if (value.type === 'demographic') return this.toDemographic(this.checked(this.batchDemographic, value, ['type', ...this.order.demographic], 'item'));
    throw validationError('type', 'type must be "id" or "demographic"');
  }

  /** The items of a batch (validated one by one later), and the purpose and consent that apply to items giving none. */
  batchItems(body: unknown): { items: unknown[]; context: AuditContext } {
    const b = this.checked(this.batchEnvelope, body, this.order.batch, 'body');
    return { items: b.items as unknown[], context: auditContext(b) };
  }

  private checked(validate: ValidateFunction, body: unknown, order: string[], root: string): Body {
    if (validate(body)) return body as Body;
    throw firstProblem(validate.errors!, isObject(body) ? body : {}, order, root);
  }

  private toId(body: Body): Validated {
    const claim: IdClaim = { idNumber: (body.idNumber as string | undefined) ?? '', fullName: body.fullName as string, dateOfBirth: body.dateOfBirth as string };
    for (const key of ['gender', 'placeOfOrigin', 'placeOfResidence', 'legacyIdNumber', 'cardIssueDate'] as const) {
      if (body[key] !== undefined) (claim as unknown as Body)[key] = body[key];
    }
    const validated: Validated = { item: { type: 'id', claim, options: this.options(body) }, context: auditContext(body) };
    if (body.candidateRef !== undefined) validated.candidateRef = body.candidateRef as string;
    return validated;
  }

  private toDemographic(body: Body): Validated {
    const query: DemographicQuery = { fullName: body.fullName as string, dateOfBirth: body.dateOfBirth as string };
    if (body.gender !== undefined) query.gender = body.gender as Gender;
    if (body.provinceCode !== undefined) query.provinceCode = body.provinceCode as string;
    return { item: { type: 'demographic', query, options: this.options(body) }, context: auditContext(body) };
  }

  private options(body: Body): MatchOptions {
    const opts = (body.options ?? {}) as { nameThreshold?: number; maxCandidates?: number };
    return { nameThreshold: opts.nameThreshold ?? this.defaultThreshold, maxCandidates: opts.maxCandidates ?? this.defaultCandidates };
  }
}

function auditContext(body: Body): AuditContext {
  const context: AuditContext = {};
  if (body.purpose !== undefined) context.purpose = body.purpose as string;
  if (body.consentRef !== undefined) context.consentRef = body.consentRef as string;
  return context;
}
