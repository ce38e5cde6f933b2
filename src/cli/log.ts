/** Structured log lines (JSON) on stdout. Callers pass codes and counts, never personal data. */
export function log(event: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n');
}
