/**
 * What the service runs on, and whether that still gets security fixes. A bank's or a
 * ministry's review stops a deployment on an unsupported runtime, so the service says so
 * at start (a warning in the log) and for as long as it runs (idv_runtime_end_of_life,
 * idv_runtime_info).
 *
 * The supported runtime is Node 24 LTS with uWebSockets.js 20.57, on glibc 2.38 or later
 * (Debian 13, Ubuntu 24.04). On an older glibc (Debian 12) uWS 20.57 does not load and
 * the service runs on Node 20 with uWS 20.30, past Node 20's end of life.
 */

/** End of life of each Node release line (nodejs.org's release schedule). */
const END_OF_LIFE: Record<number, string> = {
  18: '2025-04-30',
  20: '2026-04-30',
  22: '2027-04-30',
  24: '2028-04-30',
};

/** The oldest glibc the uWebSockets.js 20.57 binaries load on (they call C23's __isoc23_strto*). */
export const UWS_MIN_GLIBC = '2.38';

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

let glibc: { version: string | undefined } | undefined;

/** The C library's version ("2.36"), or undefined where it is not glibc. Read once: a diagnostic report takes milliseconds. */
export function glibcVersion(): string | undefined {
  glibc ??= { version: (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime };
  return glibc.version;
}

/** "2.36" < "2.38", compared as numbers part by part. */
export function olderThan(version: string, than: string): boolean {
  const [a, b] = [version, than].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

/** Why the service runs on this release, and what moves it off. */
export function endOfLifeReason(glibc = glibcVersion()): string {
  if (glibc && olderThan(glibc, UWS_MIN_GLIBC)) {
    return `this machine's glibc ${glibc} is older than ${UWS_MIN_GLIBC}, which uWebSockets.js 20.57 needs, so only Node 20 with uWebSockets.js 20.30 serves here; move to Debian 13 or Ubuntu 24.04, where npm scripts run on the project's Node 24 LTS`;
  }
  return "run it on the project's Node 24 LTS (npm start, npm test and the benches do)";
}

/** The start-up warning, or nothing on a supported runtime. */
export function runtimeWarning(status = runtimeStatus(), glibc = glibcVersion()): Record<string, unknown> | undefined {
  if (!status.pastEndOfLife) return undefined;
  return {
    level: 'warn',
    msg: 'running on a Node release past its end of life: no security fixes',
    node: status.node,
    endOfLife: status.endOfLife,
    why: endOfLifeReason(glibc),
  };
}
