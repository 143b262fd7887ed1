/** A one-line progress bar on stderr (redrawn in place on a terminal, a few plain lines otherwise). */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (step: number, total: number) => void {
  const started = Date.now();
  let lastTenth = -1;
  return (step, total) => {
    const frac = total ? step / total : 1;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(frac * width);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${step}/${total} ${secs}s`);
      if (step === total) stream.write('\n');
      return;
    }
    const tenth = Math.floor(frac * 10);
    if (tenth !== lastTenth || step === total) {
      lastTenth = tenth;
      stream.write(`${label} ${step}/${total} ${secs}s\n`);
    }
  };
}
