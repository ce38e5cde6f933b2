/**
 * Calls between two threads over postMessage, the same for every long-lived thread (the
 * server threads, the register, the audit trail): a call carries an id and is answered
 * once, by that id; the reply's type follows from the call's name in the protocol both
 * sides share. Other messages on the same port (one-way notes such as log lines) pass by.
 */

/** A protocol: each call's name, with the argument it takes and the value it answers. */
export type Protocol = Record<string, { arg: unknown; value: unknown }>;

/** A Worker from its parent's side, or the parent port from the worker's. */
export interface Port {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

interface CallMessage {
  rpc: 'call';
  id: number;
  name: string;
  arg: unknown;
}
type ReplyMessage = { rpc: 'reply'; id: number } & ({ value: unknown } | { failure: unknown });

const isReply = (m: unknown): m is ReplyMessage => (m as ReplyMessage | undefined)?.rpc === 'reply';
const isCall = (m: unknown): m is CallMessage => (m as CallMessage | undefined)?.rpc === 'call';

/**
 * One side's calls to the other. A failure the other side sent back becomes an error by
 * `toError` (each protocol keeps what its errors carry across, such as a stable code).
 */
export class Caller<P extends Protocol> {
  private readonly owed = new Map<number, { resolve: (value: never) => void; reject: (err: unknown) => void }>();
  private last = 0;
  private stopped?: Error;

  constructor(
    private readonly port: Port,
    private readonly toError: (failure: unknown) => Error = (failure) => new Error(String(failure)),
  ) {
    port.on('message', (m) => {
      if (!isReply(m)) return;
      const owed = this.owed.get(m.id);
      if (!owed) return;
      this.owed.delete(m.id);
      if ('failure' in m) owed.reject(this.toError(m.failure));
      else owed.resolve(m.value as never);
    });
  }

  call<K extends keyof P & string>(name: K, arg: P[K]['arg']): Promise<P[K]['value']> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => {
      const id = ++this.last;
      this.owed.set(id, { resolve, reject });
      this.port.postMessage({ rpc: 'call', id, name, arg } satisfies CallMessage);
    });
  }

  /** The other side is gone: every call owed, and every later one, fails with `err`. */
  stop(err: Error): void {
    this.stopped = err;
    for (const { reject } of this.owed.values()) reject(err);
    this.owed.clear();
  }
}

export type Handlers<P extends Protocol> = { [K in keyof P]: (arg: P[K]['arg']) => P[K]['value'] | Promise<P[K]['value']> };

/**
 * Answers the other side's calls, each by its handler, at once or when its promise settles;
 * a handler that throws is answered with `toFailure(err)`, which must survive postMessage.
 */
export function answer<P extends Protocol>(port: Port, handlers: Handlers<P>, toFailure: (err: unknown) => unknown = (err) => (err instanceof Error ? err.message : String(err))): void {
  port.on('message', (m) => {
    if (!isCall(m)) return;
    const reply = (outcome: { value: unknown } | { failure: unknown }) => port.postMessage({ rpc: 'reply', id: m.id, ...outcome });
    const failed = (err: unknown) => reply({ failure: toFailure(err) });
    try {
      const value = handlers[m.name as keyof P](m.arg as never);
      if (value instanceof Promise) value.then((v) => reply({ value: v }), failed);
      else reply({ value });
    } catch (err) {
      failed(err);
    }
  });
}
