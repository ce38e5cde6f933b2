/**
 * Whether the Node release the service runs on still gets security fixes. A bank's or a
 * ministry's review stops a deployment on an unsupported runtime, so the service says so
 * at start (a warning in the log) and for as long as it runs (idv_runtime_end_of_life).
 */

/** End of life of each Node release line (nodejs.org's release schedule). */
const END_OF_LIFE: Record<number, string> = {
  18: '2025-04-30',
  20: '2026-04-30',
  22: '2027-04-30',
  24: '2028-04-30',
};

export interface RuntimeStatus {
  node: string;
  /** The day its release line stopped (or stops) getting fixes; undefined for a line not in the table. */
  endOfLife?: string;
  pastEndOfLife: boolean;
}

export function runtimeStatus(version = process.versions.node, today = new Date()): RuntimeStatus {
  const major = Number(version.split('.')[0]);
  const endOfLife = END_OF_LIFE[major];
  // A line older than the table's is past its end too; a newer one is not known to be.
  const oldest = Math.min(...Object.keys(END_OF_LIFE).map(Number));
  const pastEndOfLife = endOfLife ? today.toISOString().slice(0, 10) > endOfLife : major < oldest;
  return { node: version, endOfLife, pastEndOfLife };
}

/** The start-up warning, or nothing on a supported runtime. */
export function runtimeWarning(status = runtimeStatus()): Record<string, unknown> | undefined {
  if (!status.pastEndOfLife) return undefined;
  return {
    level: 'warn',
    msg: 'running on a Node release past its end of life: no security fixes',
    node: status.node,
    endOfLife: status.endOfLife,
    why: 'the HTTP server (uWebSockets.js 20.30) has native binaries for Node 20 at most on glibc older than 2.38; run Node 24 LTS on Debian 13 or Ubuntu 24.04',
  };
}
