/** A progress line on stderr with rate and ETA: redrawn in place on a terminal, one line every few seconds otherwise. */
export function progressBar(stream: NodeJS.WriteStream = process.stderr) {
  let started = performance.now();
  let lastDraw = 0;
  let lastLabel = '';
  const tty = stream.isTTY === true;
  const interval = tty ? 200 : 5000;
  const human = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n)));
  const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

  const draw = (label: string, done: number, total: number | undefined) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = done / Math.max(seconds, 1e-3);
    let line = `${label.padEnd(14)} ${human(done)}`;
    if (total && total > 0) {
      const share = Math.min(1, done / total);
      const width = 24;
      const filled = Math.round(share * width);
      line = `${label.padEnd(14)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${human(done)}/${human(total)}`;
      if (share < 1 && seconds >= 0.5) line += ` ETA ${clock((total - done) / Math.max(rate, 1e-9))}`;
    }
    // A rate over the first half second of a phase says nothing yet.
    if (seconds >= 0.5) line += ` ${human(rate)}/s`;
    line += ` ${clock(seconds)}`;
    stream.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  };

  return {
    update(label: string, done: number, total?: number) {
      const now = performance.now();
      if (label !== lastLabel) {
        if (lastLabel !== '' && tty) stream.write('\n');
        started = now; // rate and ETA are per phase
      }
      if (label === lastLabel && now - lastDraw < interval) return;
      lastLabel = label;
      lastDraw = now;
      draw(label, done, total);
    },
    done() {
      if (tty && lastLabel) stream.write('\n');
    },
  };
}
