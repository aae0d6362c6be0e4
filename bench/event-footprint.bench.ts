// `npm run bench event-footprint`: what one turn leaves in PostgreSQL, for the capacity planner
// (`parley plan`). Starts the real server (all roles, encryption at rest as deployed) on its own
// database, runs sequential turns on the random-weight model (it talks until maxTokens) at two
// answer lengths, and after each set measures the events written (count and bytes per type) and
// the growth of the whole database (log, indexes and every read model). Two lengths give a fixed
// part and a per-output-token part of the log; the database's growth over the log's rows gives the
// factor for indexes and read models. Results: bench/results/event-footprint.json.
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { followGeneration } from '../tests/support/fuzz-runner.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer } from '../tests/support/server.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const TURNS = Number(process.env.BENCH_FOOTPRINT_TURNS ?? 40);
const WARMUP = 10; // the first turns allocate tables' and indexes' first pages: not a turn's steady cost
const LENGTHS = [16, 64];

type Snapshot = { events: number; eventBytes: number; databaseBytes: number; byType: Record<string, { count: number; bytes: number }> };

async function snapshot(url: string): Promise<Snapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('checkpoint');
    const rows = (await client.query(
      `select type, count(*)::int as count,
              sum(pg_column_size(data) + pg_column_size(metadata) + octet_length(stream_id) + 60)::bigint as bytes
         from parley_events group by type`)).rows as { type: string; count: number; bytes: string }[];
    const size = (await client.query('select pg_database_size(current_database())::bigint as b')).rows[0].b as string;
    const byType = Object.fromEntries(rows.map((r) => [r.type, { count: r.count, bytes: Number(r.bytes) }]));
    return {
      events: rows.reduce((s, r) => s + r.count, 0),
      eventBytes: rows.reduce((s, r) => s + Number(r.bytes), 0),
      databaseBytes: Number(size),
      byType,
    };
  } finally {
    await client.end();
  }
}

function diff(after: Snapshot, before: Snapshot, turns: number) {
  const byType: Record<string, { eventsPerTurn: number; bytesPerTurn: number }> = {};
  for (const [type, v] of Object.entries(after.byType)) {
    const b = before.byType[type] ?? { count: 0, bytes: 0 };
    if (v.count === b.count) continue;
    byType[type] = { eventsPerTurn: round((v.count - b.count) / turns), bytesPerTurn: round((v.bytes - b.bytes) / turns) };
  }
  return {
    eventsPerTurn: round((after.events - before.events) / turns),
    eventBytesPerTurn: round((after.eventBytes - before.eventBytes) / turns),
    databaseBytesPerTurn: round((after.databaseBytes - before.databaseBytes) / turns),
    byType,
  };
}

const round = (x: number) => Math.round(x * 10) / 10;

export async function run(): Promise<void> {
  process.env.PARLEY_LOG_LEVEL ??= 'warn';
  const server = await startTestServer({ env: { MODEL_DIR: RANDOM_MODEL_DIR } });
  try {
    const gql = graphqlClient(server.url);
    let users = 0; // a user per turn: the free tier's requests-per-minute quota would stop one user
    const turn = async (i: number, maxTokens: number) => {
      const token = await server.token({ userId: `footprint-${users++}`, tenantId: 'bench', roles: ['user'] });
      const sent = await gql(token, 'mutation($c: String!, $m: Int!) { sendMessage(input: {content: $c, params: {maxTokens: $m}}) { generation { id } } }',
        { c: `Tell me about capacity planning, turn ${i}.`, m: maxTokens });
      if (sent.errors) throw new Error(`sendMessage: ${JSON.stringify(sent.errors)}`);
      await followGeneration(server.url, token, sent.data.sendMessage.generation.id);
    };
    for (let i = 0; i < WARMUP; i++) await turn(i, LENGTHS[0]);
    const levels = [];
    for (const maxTokens of LENGTHS) {
      const before = await snapshot(server.db.url);
      for (let i = 0; i < TURNS; i++) await turn(i, maxTokens);
      await new Promise((r) => setTimeout(r, 2000)); // projections catch up before the size is read
      const after = await snapshot(server.db.url);
      levels.push({ maxTokens, turns: TURNS, ...diff(after, before, TURNS) });
      console.log(`maxTokens ${maxTokens}: ${JSON.stringify(levels.at(-1))}`);
    }
    const [short, long] = levels;
    // Per output token from the event rows (exact); the database's growth (pages of 8 kB, noisy
    // over a few turns) gives only the ratio of everything stored to the log's rows.
    const perToken = (long.eventBytesPerTurn - short.eventBytesPerTurn) / (long.maxTokens - short.maxTokens);
    const storedPerEventByte = (long.databaseBytesPerTurn + short.databaseBytesPerTurn) / (long.eventBytesPerTurn + short.eventBytesPerTurn);
    const eventsPerToken = (long.eventsPerTurn - short.eventsPerTurn) / (long.maxTokens - short.maxTokens);
    const result = {
      benchmark: 'event-footprint',
      generatedAt: new Date().toISOString(),
      commit: execSync('git rev-parse --short HEAD', { cwd: here }).toString().trim(),
      method: 'sequential turns, random-weight model (answers run to maxTokens), encryption at rest on, one new conversation per turn; bytes from pg_column_size of each event row (+60 bytes row overhead) and pg_database_size growth (log + indexes + read models)',
      levels,
      fit: {
        eventBytesPerTurnFixed: round(short.eventBytesPerTurn - perToken * short.maxTokens),
        eventBytesPerOutputToken: round(perToken),
        storedBytesPerEventByte: Math.round(storedPerEventByte * 100) / 100,
        eventsPerTurnFixed: round(short.eventsPerTurn - eventsPerToken * short.maxTokens),
        eventsPerOutputToken: Math.round(eventsPerToken * 1000) / 1000,
      },
    };
    writeFileSync(path.join(here, 'results', 'event-footprint.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\n${JSON.stringify(result.fit)}\nwrote bench/results/event-footprint.json`);
  } finally {
    await server.stop();
  }
}
