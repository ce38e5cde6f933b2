import { describe, expect, it } from 'vitest';
import type { RegisterWriter } from '../../src/register/writer.js';
import { Follower } from '../../src/replication/follower.js';
import type { ChangeStream } from '../../src/replication/stream.js';

/**
 * A replica stopped while its consumer of the change stream is being made (NATS slow to
 * answer, just after an outage) must still stop: the consumer made after the stop was
 * never stopped, so the follower, the register and the process waited forever on
 * SIGTERM (a CI run's afterAll timed out on it).
 */
describe('a follower stopped while its consumer is being made', () => {
  it('stops the consumer made after the stop, and its run ends', async () => {
    let made!: () => void;
    let stopped = false;
    let closed!: () => void;
    const messages = {
      stop: () => {
        stopped = true;
        closed();
      },
      closed: () => new Promise<void>((resolve) => (closed = resolve)),
    };
    const stream = {
      connected: true,
      reconnected: new Set<() => void>(),
      lastOf: async () => undefined,
      // The consumer comes only when the test says so: after stop() was called.
      follow: () => new Promise((resolve) => (made = () => resolve(messages))),
    } as unknown as ChangeStream;
    const writer = { build: 'build-1', lastSequence: 0, streamPosition: undefined } as unknown as RegisterWriter;
    const follower = new Follower(stream, writer, () => {}, () => {});
    const run = follower.run();
    await new Promise((resolve) => setTimeout(resolve, 10));
    follower.stop();
    made();
    const ended = await Promise.race([run.then(() => 'ended'), new Promise((resolve) => setTimeout(() => resolve('still running'), 2000))]);
    expect(ended).toBe('ended');
    expect(stopped).toBe(true);
  });
});
