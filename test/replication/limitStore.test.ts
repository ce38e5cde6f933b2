import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LimitStore } from '../../src/clients/sharedStore.js';
import { ServiceError } from '../../src/errors.js';
import { NATS_SERVER, NatsServer } from '../helpers/nats.js';

/**
 * The shared limits' store answers LIMITS_UNAVAILABLE for any failure of its own, so the
 * guard fails closed with its documented code: a failed write was once taken for a lost
 * compare-and-set and retried, and a failed read passed on as whatever NATS threw.
 */
describe.skipIf(!NATS_SERVER)('the shared limits store when its connection is gone', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await NatsServer.start();
  });
  afterAll(async () => {
    await nats?.remove();
  });

  it('refuses a count with LIMITS_UNAVAILABLE, and counts exactly while it is up', async () => {
    const store = await LimitStore.open(nats.url, 'IDV_LIMITS_TEST', 1, () => {});
    const now = Date.now();
    expect((await store.add('k.a', now, 3_600_000, 2)).count).toBe(1);
    expect((await store.add('k.a', now, 3_600_000, 2)).count).toBe(2);
    expect((await store.add('k.a', now, 3_600_000, 2)).count).toBe(2);
    await store.close();
    const refused = await store.add('k.a', now, 3_600_000, 5).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ServiceError);
    expect((refused as ServiceError).code).toBe('LIMITS_UNAVAILABLE');
  });
});
