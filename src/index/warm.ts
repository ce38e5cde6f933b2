import { open } from 'node:fs/promises';

const CHUNK = 8 * 1024 * 1024;

/**
 * Reads the index file once from start to end, so its pages are in the page cache before
 * traffic needs them: a lookup that misses the cache waits for the disk (at 98M citizens a
 * cold demographic search does several such reads). Runs on libuv's thread pool, does not
 * delay readiness, and reads ~10 GB in seconds on this machine.
 */
export async function warmPageCache(path: string): Promise<{ bytes: number; seconds: number }> {
  const started = performance.now();
  const file = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, CHUNK, bytes);
      if (bytesRead === 0) break;
      bytes += bytesRead;
    }
  } finally {
    await file.close();
  }
  return { bytes, seconds: (performance.now() - started) / 1000 };
}
