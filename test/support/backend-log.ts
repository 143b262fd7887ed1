// Which real backend (container or local process) a test run used, said once per test process on
// stderr, so a fallback is never silent.
const reported = new Set<string>();

export function reportBackend(part: 'redis' | 's3', description: string): void {
  const line = `[test backend] ${part}: ${description}`;
  if (reported.has(line)) return;
  reported.add(line);
  process.stderr.write(`${line}\n`);
}
