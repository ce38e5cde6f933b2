import { ServiceError, validationError } from '../errors.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import type { Client, Scope } from '../clients/clients.js';
import type { Dispatcher } from '../service/dispatch.js';
import type { Ticket } from '../clients/admission.js';
import type { Metrics } from '../service/metrics.js';
import type { AuditContext, RequestValidator, Validated } from '../contract/validator.js';
import type { AuditNote, ItemNote } from '../http/exchange.js';
import type { AnswerGuard, Reviewed } from '../clients/probing.js';
import type { CandidateRefs } from '../verification/candidateRef.js';

export type VerificationRoute = '/v1/verify' | '/v1/verify/demographic' | '/v1/verify/batch';

export interface Verification {
  scope: Scope;
  /** Body size limit in bytes. */
  limit: number;
  /** The items a body of this many bytes may hold at most, as admission counts it before the body is read. */
  items?: (contentLength: number) => number;
  /** Validates a decoded body and answers it (without requestId), noting what the audit trail keeps; at once when the work was done here. */
  handle(body: unknown, client: Client, note: AuditNote, ticket: Ticket): object | Promise<object>;
}

/** The fewest bytes a batch item takes in JSON or msgpack (`{"type":"id","idNumber":"…12…"}` is 39): an upper bound on a body's items. */
const MIN_ITEM_BYTES = 32;

/**
 * The name blocks one request's rate pays for: a search of a real name, its near names
 * included, reaches 36 at the median and 81 at most when it finds its person, 48 at the
 * median and 99 at the 99th percentile when nobody has that name and date (5,000 people
 * of the bench's population); eight words that are no known name reach 324.
 */
const LOOKUPS_PER_REQUEST = 96;

/** What the audit trail keeps of a validated item: its type, the ID number (hashed when written), purpose and consent. */
function itemNote({ item, context }: Validated, defaults: AuditContext = {}): ItemNote {
  const note: ItemNote = { type: item.type, ...defaults, ...context };
  if (item.type === 'id') note.idNumber = item.claim.idNumber;
  return note;
}

/**
 * What the client's entry asks of purpose and consent: both stated (unless the entry says
 * consent is not required), and the purpose among those the entry allows.
 */
function checkConsent(client: Client, context: AuditContext): void {
  if (client.consentRequired) {
    if (context.purpose === undefined) throw validationError('purpose', 'purpose is required for this API key (why the identity is checked)');
    if (context.consentRef === undefined) throw validationError('consentRef', "consentRef is required for this API key (the client's reference to the citizen's consent)");
  }
  if (client.purposes && context.purpose !== undefined && !client.purposes.has(context.purpose)) {
    throw validationError('purpose', `purpose must be one of those allowed to this API key: ${[...client.purposes].join(', ')}`);
  }
}

/**
 * The answer as this client may see it: never whom it reached (kept for the guard and the
 * trail), and without numeric scores unless its entry allows them, so that guesses cannot
 * be steered by how close they came.
 */
function shown(result: WorkResult, client: Client): WorkResult {
  if ('error' in result) return result;
  const { subjects: _, lookups: __, ...answer } = result;
  if (client.scores) return answer as WorkResult;
  if ('candidates' in answer) return { ...answer, candidates: answer.candidates.map(({ score: _, ...c }) => c) } as WorkResult;
  if (answer.result === 'not_found') return answer as WorkResult;
  const fields: Record<string, object> = {};
  for (const [name, field] of Object.entries(answer.fields)) {
    const { score: _, ...rest } = field as { score?: number };
    fields[name] = rest;
  }
  return { ...answer, fields } as WorkResult;
}

/** Goes on at once with a value, or once a promise settles: work done here needs no promise. */
function then<T, R>(value: T | Promise<T>, next: (value: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** What the trail keeps of an answer: its outcome or code, and whom it reached. */
const outcome = (result: WorkResult): Pick<ItemNote, 'result' | 'code' | 'found'> => ('error' in result ? { code: result.error.code } : { result: result.result, found: result.subjects });

/** The three verification endpoints: validation on the event loop, the work on the dispatcher. */
export function verifications(opts: {
  dispatcher: Dispatcher;
  metrics: Metrics;
  /** Counts a batch's items against the client's rate and quota; throws RATE_LIMITED. */
  chargeItems: (client: Client, items: number) => void;
  /** Charges work beyond a request's own weight to the client's rate, into debt if need be (never refused: the work is done). */
  chargeWork: (client: Client, units: number) => void;
  /** The contract's validators, with the operator's limits. */
  validator: RequestValidator;
  /** Withholds the answers that guessing produces, past a client's limits. */
  guard: AnswerGuard;
  /** Opens the references to a search's candidates that a follow-up verification sends. */
  candidateRefs: CandidateRefs;
  bodyLimit: number;
  batchBodyLimit: number;
  batchMaxItems: number;
}): Record<VerificationRoute, Verification> {
  const { dispatcher, metrics, validator } = opts;
  // Outcomes answered; a batch item refused (by validation, scope or the probing guard) counts as an error answer by its code.
  const count = (item: WorkItem, result: WorkResult) => {
    if ('result' in result) metrics.recordResult(item.type, result.result);
  };

  /**
   * Binds a validated item to the client: a search's candidates are sealed for it, and a
   * candidate reference it sends is opened (refused unless it was given to this client).
   */
  function bind(validated: Validated, client: Client): Validated {
    const { item } = validated;
    if (item.type === 'demographic') item.client = client.id;
    else if (validated.candidateRef !== undefined) {
      const idNumber = opts.candidateRefs.open(validated.candidateRef, client.id);
      if (!idNumber) throw validationError('candidateRef', 'candidateRef is not one this API key was given by a search in the last 24 hours');
      item.claim.idNumber = idNumber;
    }
    return validated;
  }

  /**
   * A search whose words reach many more name blocks than a common one (eight words that
   * are no known name: 324 lookups against 15) is charged to the client's rate by its
   * weight once done, answered or refused: its rate bounds the work it can ask for, not
   * only its requests.
   */
  const chargeLookups = (client: Client, answers: Reviewed) => {
    let extra = 0;
    for (const a of answers) {
      const lookups = (a as { lookups?: number }).lookups;
      if (lookups !== undefined) extra += Math.max(0, Math.ceil(lookups / LOOKUPS_PER_REQUEST) - 1);
    }
    if (extra) opts.chargeWork(client, extra);
  };

  function single(unbound: Validated, client: Client, note: AuditNote, ticket: Ticket): object | Promise<object> {
    const validated = bind(unbound, client);
    Object.assign(note, itemNote(validated));
    checkConsent(client, validated.context);
    const items = [validated.item];
    return then(then(dispatcher.run(items, ticket), (answers) => (chargeLookups(client, answers), opts.guard.review(client, items, answers))), ([result]) => {
      if (result instanceof ServiceError) throw result;
      if ('error' in result) throw new ServiceError(result.error.code);
      count(validated.item, result);
      Object.assign(note, outcome(result));
      return shown(result, client);
    });
  }

  function batch(body: unknown, client: Client, note: AuditNote, ticket: Ticket): object | Promise<object> {
    const { items: raw, context } = validator.batchItems(body);
    Object.assign(note, context);
    opts.chargeItems(client, raw.length);
    const results: unknown[] = new Array(raw.length);
    const notes: ItemNote[] = (note.items = new Array(raw.length));
    const items: WorkItem[] = [];
    const slots: number[] = [];
    raw.forEach((value, i) => {
      try {
        const validated = bind(validator.batchItem(value), client);
        notes[i] = itemNote(validated, context);
        checkConsent(client, { ...context, ...validated.context });
        if (!client.scopes.has(validated.item.type === 'id' ? 'verify' : 'demographic')) throw new ServiceError('FORBIDDEN');
        items.push(validated.item);
        slots.push(i);
      } catch (err) {
        const error = err instanceof ServiceError ? err : new ServiceError('INTERNAL');
        notes[i] = { ...context, ...notes[i], code: error.code };
        metrics.errors.inc({ code: error.code });
        results[i] = error.toBody();
      }
    });
    const reviewed = items.length ? then(dispatcher.run(items, ticket), (answers) => (chargeLookups(client, answers), opts.guard.review(client, items, answers))) : [];
    return then(reviewed, (answers) => answered(answers));

    function answered(answers: Reviewed): object {
      answers.forEach((result, k) => {
        const body = result instanceof ServiceError ? result.toBody() : result;
        if ('error' in body) metrics.errors.inc({ code: body.error.code });
        else count(items[k], body);
        Object.assign(notes[slots[k]], outcome(body));
        results[slots[k]] = 'error' in body ? body : { type: items[k].type, ...shown(body, client) };
      });
      return { results };
    }
  }

  return {
    '/v1/verify': { scope: 'verify', limit: opts.bodyLimit, items: () => 1, handle: (body, client, note, ticket) => single(validator.idItem(body), client, note, ticket) },
    '/v1/verify/demographic': { scope: 'demographic', limit: opts.bodyLimit, items: () => 1, handle: (body, client, note, ticket) => single(validator.demographicItem(body), client, note, ticket) },
    '/v1/verify/batch': { scope: 'batch', limit: opts.batchBodyLimit, items: (bytes) => Math.max(1, Math.min(opts.batchMaxItems, Math.floor(bytes / MIN_ITEM_BYTES))), handle: batch },
  };
}
