/**
 * The number of citizens the server holds, one for the whole server: a cell of shared
 * memory that the main thread sets (at start, after each batch the register applies, when
 * a new build is switched in) and every server thread reads for /readyz, a thread started
 * later included. The register's count is the truth; the build's own count is only its
 * starting point.
 */
export class LiveCount {
  private readonly cell: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.cell = new BigInt64Array(buffer, 0, 1);
  }

  get(): number {
    return Number(Atomics.load(this.cell, 0));
  }

  set(records: number): void {
    Atomics.store(this.cell, 0, BigInt(records));
  }
}
