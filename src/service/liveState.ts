import { ROLES, UNREADY_REASONS } from '../contract/schemas.js';

export type Role = (typeof ROLES)[number];
export type UnreadyReason = (typeof UNREADY_REASONS)[number];

const RECORDS = 0;
const SEQUENCE = 1;
const ROLE = 2;
const LAG_CHANGES = 3;
const LAG_SECONDS = 4;
const UNREADY = 5; // 0: ready; else 1 + the reason's index
const NUMBERS = 6;
const BUILD_BYTES = 128;

/** What /readyz says of an instance, besides whether it is ready. */
export interface StateView {
  records: number;
  role: Role;
  build: string;
  sequence: number;
  /** A replica's distance behind the stream; undefined elsewhere, or while unknown. */
  lag?: { changes: number; seconds: number };
  unready?: UnreadyReason;
}

/**
 * The instance's state, one for the whole server: shared memory that the main thread sets
 * (at start, after each batch the register applies or follows, when a new build is switched
 * in) and every server thread reads for /readyz, a thread started later included. The
 * register's count is the truth; the build's own count is only its starting point.
 */
export class LiveState {
  private readonly numbers: Float64Array;
  private readonly buildLength: Int32Array;
  private readonly buildBytes: Uint8Array;

  readonly buffer: SharedArrayBuffer;

  /** A new state, or (given its memory) the view of one made on another thread. */
  constructor(shared?: SharedArrayBuffer) {
    this.buffer = shared ?? new SharedArrayBuffer(NUMBERS * 8 + 4 + BUILD_BYTES);
    this.numbers = new Float64Array(this.buffer, 0, NUMBERS);
    this.buildLength = new Int32Array(this.buffer, NUMBERS * 8, 1);
    this.buildBytes = new Uint8Array(this.buffer, NUMBERS * 8 + 4, BUILD_BYTES);
    if (!shared) this.setLag(undefined);
  }

  get records(): number {
    return this.numbers[RECORDS];
  }

  set records(records: number) {
    this.numbers[RECORDS] = records;
  }

  get sequence(): number {
    return this.numbers[SEQUENCE];
  }

  set sequence(sequence: number) {
    this.numbers[SEQUENCE] = sequence;
  }

  get role(): Role {
    return ROLES[this.numbers[ROLE]];
  }

  set role(role: Role) {
    this.numbers[ROLE] = ROLES.indexOf(role);
  }

  get unready(): UnreadyReason | undefined {
    const code = this.numbers[UNREADY];
    return code === 0 ? undefined : UNREADY_REASONS[code - 1];
  }

  set unready(reason: UnreadyReason | undefined) {
    this.numbers[UNREADY] = reason === undefined ? 0 : UNREADY_REASONS.indexOf(reason) + 1;
  }

  setLag(lag: { changes: number; seconds: number } | undefined): void {
    this.numbers[LAG_CHANGES] = lag?.changes ?? NaN;
    this.numbers[LAG_SECONDS] = lag?.seconds ?? NaN;
  }

  get build(): string {
    return Buffer.from(this.buildBytes.subarray(0, Atomics.load(this.buildLength, 0))).toString('latin1');
  }

  /** A build's directory name: short, and of letters, digits and punctuation only. */
  set build(name: string) {
    const bytes = Buffer.from(name, 'latin1').subarray(0, BUILD_BYTES);
    Atomics.store(this.buildLength, 0, 0);
    this.buildBytes.set(bytes);
    Atomics.store(this.buildLength, 0, bytes.length);
  }

  view(): StateView {
    const view: StateView = { records: this.records, role: this.role, build: this.build, sequence: this.sequence };
    const changes = this.numbers[LAG_CHANGES];
    if (this.role === 'replica' && !Number.isNaN(changes)) view.lag = { changes, seconds: this.numbers[LAG_SECONDS] };
    if (this.unready) view.unready = this.unready;
    return view;
  }
}
