// Shared by the deploy tests: the metric names Parley really exports, and the metric names a
// PromQL expression references.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Metrics } from '../../read-api/http/metrics.ts';

/**
 * Debian's prometheus package (promtool, prometheus) is the one tool these tests need that a fresh
 * machine with only redis-server and chromium lacks: there, the tests that run it are skipped with
 * this reason in the report (and scripts/test.sh says so in its first lines). Where
 * PARLEY_REQUIRE_PROMETHEUS=1 — CI, whose .ci/run installs the package — a missing binary fails.
 */
export function prometheusMissing(bin: string): string | false {
  if (existsSync(bin)) return false;
  const reason = `${bin} not found: install Debian's prometheus package (apt-get install prometheus)`;
  if (process.env.PARLEY_REQUIRE_PROMETHEUS === '1') throw new Error(`${reason} — PARLEY_REQUIRE_PROMETHEUS=1`);
  return reason;
}

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const deployPath = (...p: string[]) => path.join(ROOT, 'deploy', ...p);

/** every series name a fully wired Parley process can expose (histograms with _bucket/_count/_sum) */
export async function exportedMetricNames(): Promise<Set<string>> {
  const m = new Metrics();
  m.addEngine({ metrics: () => ({}), stats: () => ({ running: 0, waiting: 0, kvUsage: 0, capacity: 1 }) });
  m.addPromptCounter(() => 0);
  m.addQueryCounter('api');
  m.addDatabase({} as never, ['conversations'], async () => ({ events: 0, seconds: 0 }), async () => ({ queued: 0, running: 0 }), async () => 0);
  const names = new Set<string>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (['histogram', 'summary'].includes(String(metric.type))) for (const s of ['_bucket', '_count', '_sum']) names.add(metric.name + s);
  }
  return names;
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2']);

/** metric names in a PromQL expression (functions, aggregations, labels, durations left out) */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\$\{?\w+\}?/g, ' ') // Grafana variables
    .replace(/(?<![A-Za-z0-9_:])\d+(\.\d+)?([eE][+-]?\d+)?(ms|s|m|h|d|w|y)?(?![A-Za-z0-9_:])/g, ' ') // numbers, durations
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // grouping labels
  const names: string[] = [];
  for (const match of stripped.matchAll(/(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\(?))/g)) {
    const name = match[0];
    if (match[1] === '(' || KEYWORDS.has(name.toLowerCase())) continue; // function or aggregation
    names.push(name);
  }
  return names;
}

type RuleFile = { groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[] };
export function readRules(file: string): RuleFile['groups'][number]['rules'] {
  return (parse(readFileSync(deployPath('prometheus', file), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
}

/** names a dashboard or alert may use: exported metrics and the recording rules over them */
export async function usableNames(): Promise<{ exported: Set<string>; recorded: Set<string> }> {
  const exported = await exportedMetricNames();
  const recorded = new Set(readRules('recording-rules.yml').map((r) => r.record!).filter(Boolean));
  return { exported, recorded };
}
