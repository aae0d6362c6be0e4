import cliProgress from 'cli-progress';

// A progress bar on stderr (stdout may be a data file), quiet when not a terminal.
export function progressBar(label: string) {
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value: number, total: number) {
      if (!started) { bar.start(total, 0); started = true; }
      bar.setTotal(total);
      bar.update(value);
    },
    stop() { if (started) bar.stop(); },
  };
}
