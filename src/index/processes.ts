import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * A process as recorded in a lock or reader file. The start time (from /proc) tells a
 * live holder from a new process that was given the same pid after the holder died.
 */
export interface ProcessId {
  pid: number;
  host: string;
  /** Clock ticks after boot at which the process started; undefined where /proc is absent. */
  started?: number;
}

function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) is parenthesized and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

export function thisProcess(): ProcessId {
  return { pid: process.pid, host: hostname(), started: startTicks(process.pid) };
}

/**
 * Whether the recorded process still runs. A process of another host cannot be checked
 * and counts as alive: its lock is never taken over by mistake.
 */
export function isAlive(p: ProcessId): boolean {
  if (p.host !== hostname()) return true;
  try {
    process.kill(p.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = startTicks(p.pid);
  return p.started === undefined || started === undefined || started === p.started;
}

export const describeProcess = (p: ProcessId) => `pid ${p.pid} on ${p.host}`;
