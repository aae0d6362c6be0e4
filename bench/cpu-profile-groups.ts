// `node --import tsx bench/cpu-profile-groups.ts <file.cpuprofile> [from s] [to s]`
// Where a process's main thread spends its time, by part of the system: reads a V8 CPU profile
// (`bench:pipeline -- --cpu-prof <dir>`) and counts each sample once, under the nearest frame (from
// the leaf up) that names a package or a Parley folder. Socket writes are charged to PostgreSQL when
// pg sent them, else to HTTP. Without [from, to] it prints busy samples per 250 ms, to find a level's
// window (seconds since the profile started); with it, the shares in that window.
import { readFileSync } from 'node:fs';

type Frame = { functionName: string; url: string };
type Profile = { nodes: { id: number; callFrame: Frame; children?: number[] }[]; startTime: number; samples: number[]; timeDeltas: number[] };

const PG = /node_modules\/(pg|pg-protocol|pg-pool|pg-types|knex)\//;
const GROUPS: [RegExp, string][] = [
  [PG, 'PostgreSQL client (pg, knex) and socket writes to it'],
  [/\/eventstore\/postgres\//, 'PostgreSQL client (pg, knex) and socket writes to it'],
  [/node_modules\/(graphql|@graphql-tools|graphql-yoga|@graphql-yoga|@envelop|graphql-sse|@whatwg-node)\//, 'HTTP + GraphQL (yoga, graphql-js, graphql-sse, whatwg-node) and socket writes to clients'],
  [/^node:_http/, 'HTTP + GraphQL (yoga, graphql-js, graphql-sse, whatwg-node) and socket writes to clients'],
  [/node_modules\/zod\//, 'zod validation'],
  [/\/eventstore\/crypto\/|\/projections\/sealed-text|^node:internal\/crypto/, 'encryption at rest (AES-GCM, keys)'],
  [/\/inference\/engine\/|onnxruntime|tokenizers/, 'engine (JS side)'],
  [/\/projections\//, 'projections'],
  [/\/inference\/saga\//, 'saga'],
  [/\/inference\/worker\//, 'worker'],
  [/\/(commands|domain|schemas)\//, 'commands, deciders, schemas'],
  [/\/read-api\//, 'read-api (resolvers, admission, metrics)'],
  [/prom-client|opentelemetry|pino/, 'metrics, tracing, logs'],
];
const WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String']);

function groupOf(chain: Frame[]): string {
  const leaf = chain[0]!.functionName;
  if (leaf === '(idle)') return 'idle';
  if (leaf === '(garbage collector)') return 'garbage collection';
  if (leaf === '(program)') return 'V8 / native, other';
  if (WRITES.has(leaf)) return chain.some((f) => PG.test(f.url)) ? GROUPS[0]![1] : GROUPS[2]![1];
  for (const frame of chain) for (const [pattern, name] of GROUPS) if (pattern.test(frame.url)) return name;
  return 'node internals, timers, microtasks';
}

const [file, from, to] = process.argv.slice(2);
if (!file) throw new Error('usage: cpu-profile-groups.ts <file.cpuprofile> [from s] [to s]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const chainOf = (id: number) => {
  const chain: Frame[] = [];
  for (let i: number | undefined = id; i !== undefined; i = parent.get(i)) chain.push(byId.get(i)!.callFrame);
  return chain;
};

let t = profile.startTime;
const at = profile.timeDeltas.map((d) => (t += d, (t - profile.startTime) / 1e6));
if (from === undefined || to === undefined) {
  const busy = new Map<number, number>();
  profile.samples.forEach((s, i) => {
    const name = byId.get(s)!.callFrame.functionName;
    if (name !== '(idle)' && name !== '(program)') busy.set(Math.floor(at[i]! * 4), (busy.get(Math.floor(at[i]! * 4)) ?? 0) + 1);
  });
  console.log([...busy].map(([b, n]) => `${(b / 4).toFixed(2)}s:${n}`).join('  '));
} else {
  const counts = new Map<string, number>();
  profile.samples.forEach((s, i) => {
    if (at[i]! < Number(from) || at[i]! > Number(to)) return;
    const g = groupOf(chainOf(s));
    counts.set(g, (counts.get(g) ?? 0) + 1);
  });
  const busy = [...counts].filter(([g]) => g !== 'idle').reduce((a, [, n]) => a + n, 0);
  for (const [g, n] of [...counts].filter(([g]) => g !== 'idle').sort((a, b) => b[1] - a[1])) console.log(`${((100 * n) / busy).toFixed(1).padStart(5)} %  ${g}`);
  console.log(`${busy} busy samples, ${counts.get('idle') ?? 0} idle, ${from}–${to} s`);
}
