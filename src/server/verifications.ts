import { ServiceError } from '../errors.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import type { Client, Scope } from './clients.js';
import type { Dispatcher } from './dispatch.js';
import type { Metrics } from './metrics.js';
import { asObject, batchItem, batchItems, demographicItem, idItem } from './validate.js';

export type VerificationRoute = '/v1/verify' | '/v1/verify/demographic' | '/v1/verify/batch';

export interface Verification {
  scope: Scope;
  /** Body size limit in bytes. */
  limit: number;
  /** Validates a decoded body and answers it (without requestId). */
  handle(body: unknown, client: Client): Promise<object>;
}

/** The three verification endpoints: validation on the event loop, the work on the dispatcher. */
export function verifications(opts: { dispatcher: Dispatcher; metrics: Metrics; bodyLimit: number; batchBodyLimit: number; batchMaxItems: number }): Record<VerificationRoute, Verification> {
  const { dispatcher, metrics } = opts;
  const count = (item: WorkItem, result: WorkResult) => {
    if ('result' in result) metrics.recordResult(item.type, result.result);
  };

  async function single(item: WorkItem): Promise<object> {
    const [result] = await dispatcher.run([item]);
    if ('error' in result) throw new ServiceError(result.error.code);
    count(item, result);
    return result;
  }

  async function batch(body: unknown, client: Client): Promise<object> {
    const raw = batchItems(asObject(body, 'body'), opts.batchMaxItems);
    const results: unknown[] = new Array(raw.length);
    const items: WorkItem[] = [];
    const slots: number[] = [];
    raw.forEach((value, i) => {
      try {
        const item = batchItem(value);
        if (!client.scopes.has(item.type === 'id' ? 'verify' : 'demographic')) throw new ServiceError('FORBIDDEN');
        items.push(item);
        slots.push(i);
      } catch (err) {
        results[i] = (err instanceof ServiceError ? err : new ServiceError('INTERNAL')).toBody();
      }
    });
    const answers = items.length ? await dispatcher.run(items) : [];
    answers.forEach((answer, k) => {
      count(items[k], answer);
      results[slots[k]] = 'error' in answer ? answer : { type: items[k].type, ...answer };
    });
    return { results };
  }

  return {
    '/v1/verify': { scope: 'verify', limit: opts.bodyLimit, handle: (body) => single(idItem(asObject(body, 'body'))) },
    '/v1/verify/demographic': { scope: 'demographic', limit: opts.bodyLimit, handle: (body) => single(demographicItem(asObject(body, 'body'))) },
    '/v1/verify/batch': { scope: 'batch', limit: opts.batchBodyLimit, handle: batch },
  };
}
