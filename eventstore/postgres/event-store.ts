import pg from 'pg';
import { validateAppendMany, validateForAppend } from '../validate-append.ts';
import { upcast } from '../../schemas/upcasters.ts';
import { subjectOf } from '../../schemas/common.ts';
import {
  ConcurrencyError,
  InvalidEventError,
  parsePosition,
  START,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type Position,
  type ReadAllOptions,
  type RecordedEvent,
  type StreamAppend,
  type SubscribeOptions,
} from '../port.ts';
import { FieldCodec, type Subject } from '../crypto/field-codec.ts';
import { KeyStore } from '../crypto/key-store.ts';
import { markSealedBy, sealingKeyId } from '../crypto/read-model-cipher.ts';
import { SESSION_OPTIONS } from './connect.ts';
import { AppendNotifier } from './notifier.ts';

const COLUMNS = 'position, transaction_id, stream_id, stream_revision, type, version, data, metadata, recorded_at';
// Only rows of transactions older than every running one are safe: nothing can commit behind them.
const FENCE = 'transaction_id < pg_snapshot_xmin(pg_current_snapshot())';

type Row = {
  position: string;
  transaction_id: string;
  stream_id: string;
  stream_revision: string;
  type: string;
  version: number;
  data: unknown;
  metadata: unknown;
  recorded_at: Date;
  kid?: string; // the data key that sealed its personal fields (read models re-seal with it)
};

export type PostgresEventStoreOptions = {
  connectionString: string;
  poolSize?: number;
  pollMs?: number;
  // At most one append NOTIFY per this many ms (the longest a LISTENer waits beyond a commit).
  notifyIntervalMs?: number;
  // Encrypts personal fields at rest (crypto-shredding); see eventstore/crypto/.
  encryption?: { masterKey: Buffer };
};

export class PostgresEventStore implements EventStore {
  private readonly pool: pg.Pool;
  private readonly notifier: AppendNotifier;
  private readonly pollMs: number;
  private readonly notifyIntervalMs: number;
  // Appends announce themselves after commit (see announce()).
  private announcing: Promise<void> | null = null;
  private announcePending = false;
  private announceTimer: NodeJS.Timeout | null = null;
  private lastAnnounce = -Infinity;
  private closing = false;

  constructor(options: PostgresEventStoreOptions) {
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 10, options: SESSION_OPTIONS });
    this.pool.on('error', () => undefined); // idle client errors surface on the next query instead
    this.notifier = new AppendNotifier(options.connectionString);
    this.pollMs = options.pollMs ?? 500;
    this.notifyIntervalMs = options.notifyIntervalMs ?? 5;
    if (options.encryption) {
      const query = (sql: string, params: unknown[]) => this.pool.query(sql, params);
      this.keys = new KeyStore(query, options.encryption.masterKey);
      this.codec = new FieldCodec(this.keys, (streamId) => this.subjectOf(streamId), (streamIds) => this.subjectsOf(streamIds));
    }
  }

  readonly keys: KeyStore | null = null;
  private readonly codec: FieldCodec | null = null;

  // Whose key protects a stream: from its first event (ids are in clear).
  private async subjectOf(streamId: string): Promise<Subject | null> {
    const { rows } = await this.pool.query(
      `select type, data->>'ownerId' as owner, data->>'tenantId' as tenant, data->>'conversationId' as conv, data->>'userId' as uid,
              data->>'appealId' as appeal
         from parley_events where stream_id = $1 and stream_revision = 0`,
      [streamId],
    );
    const r = rows[0];
    if (!r || !r.tenant) return null;
    if (r.type === 'AppealFiled') return { subjectId: subjectOf(r.tenant, r.uid), scope: `appeal-${r.appeal}` };
    return r.owner && r.conv ? { subjectId: subjectOf(r.tenant, r.owner), scope: r.conv } : null;
  }

  private async decodeRows(rows: Row[]): Promise<Row[]> {
    if (!this.codec) return rows;
    const codec = this.codec;
    for (const r of rows) {
      r.kid = sealingKeyId(r.type, r.data);
      r.data = await codec.decode(r.stream_id, (r.metadata as { eventId: string }).eventId, r.type, r.data);
    }
    return rows;
  }

  async start(): Promise<this> {
    await this.notifier.start();
    return this;
  }

  async append(streamId: string, events: EventToAppend[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    if (events.length === 0) throw new InvalidEventError('append needs at least one event');
    if (!streamId) throw new InvalidEventError('stream id is empty');
    events.forEach(validateForAppend);
    if (this.codec) events = await this.codec.encode(streamId, events);
    const expected = expectedParam(options.expectedRevision);
    const params = [
      streamId,
      expected,
      events.map((e) => e.metadata.eventId),
      events.map((e) => e.type),
      events.map((e) => e.version),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => JSON.stringify(e.metadata)),
    ];
    const sql = 'select * from parley_append($1, $2, $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])';
    let result: pg.QueryResult;
    try {
      result = await this.pool.query(sql, params);
    } catch (error) {
      // Two identical appends racing: the loser hits the event id's unique index. Ask again,
      // and the function answers with the stored copy (idempotent append).
      if ((error as { code?: string; constraint?: string }).constraint === 'parley_events_event_id_key') {
        result = await this.pool.query(sql, params);
      } else if ((error as { code?: string }).code === 'PA002') {
        throw new InvalidEventError((error as Error).message);
      } else if ((error as { constraint?: string }).constraint === 'parley_streams_pkey') {
        // Two first appends with 'no_stream'/'any' racing on a new stream.
        throw new ConcurrencyError(streamId, options.expectedRevision, await this.streamRevision(streamId));
      } else {
        throw error;
      }
    }
    const row = result.rows[0] as { o_revision: string | null; o_xid: string | null; o_position: string | null; o_duplicate: boolean; o_actual: string | null };
    if (row.o_revision === null) {
      throw new ConcurrencyError(streamId, options.expectedRevision, row.o_actual === null ? null : Number(row.o_actual));
    }
    if (!row.o_duplicate) this.announce();
    return { nextRevision: Number(row.o_revision), position: `${row.o_xid}/${row.o_position}`, duplicate: row.o_duplicate };
  }

  // All streams in one call of parley_append_many: one round trip, one transaction (all or nothing).
  async appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    if (appends.length === 0) return [];
    validateAppendMany(appends);
    const encoded = this.codec ? await this.codec.encodeMany(appends) : appends.map((a) => a.events);
    const events = encoded.flat();
    const params = [
      appends.map((a) => a.streamId),
      appends.map((a) => expectedParam(a.expectedRevision)),
      encoded.flatMap((es, i) => es.map(() => i + 1)),
      events.map((e) => e.metadata.eventId),
      events.map((e) => e.type),
      events.map((e) => e.version),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => JSON.stringify(e.metadata)),
    ];
    const sql = 'select * from parley_append_many($1::text[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])';
    let result: pg.QueryResult;
    try {
      result = await this.pool.query(sql, params);
    } catch (error) {
      const e = error as { code?: string; constraint?: string; detail?: string; message: string };
      if (e.constraint === 'parley_events_event_id_key') {
        // An identical call raced this one and won: asked again, the function answers duplicate.
        result = await this.pool.query(sql, params);
      } else if (e.code === 'PA001') {
        const { index, actual } = JSON.parse(e.detail ?? '{}') as { index: number; actual: number | null };
        const failed = appends[index - 1]!;
        throw new ConcurrencyError(failed.streamId, failed.expectedRevision, actual === null ? null : Number(actual));
      } else if (e.code === 'PA002' || e.code === 'PA003') {
        throw new InvalidEventError(e.message);
      } else if (e.constraint === 'parley_streams_pkey') {
        const streamId = /\(stream_id\)=\((.*)\)/.exec(e.detail ?? '')?.[1] ?? appends[0]!.streamId;
        const failed = appends.find((a) => a.streamId === streamId) ?? appends[0]!;
        throw new ConcurrencyError(failed.streamId, failed.expectedRevision, await this.streamRevision(failed.streamId));
      } else {
        throw error;
      }
    }
    const rows = result.rows as { o_stream: number; o_revision: string; o_xid: string; o_position: string; o_duplicate: boolean }[];
    if (rows.some((r) => !r.o_duplicate)) this.announce();
    return rows.map((r) => ({ nextRevision: Number(r.o_revision), position: `${r.o_xid}/${r.o_position}`, duplicate: r.o_duplicate }));
  }

  // Whose keys protect many streams, in one query (see subjectOf).
  private async subjectsOf(streamIds: string[]): Promise<Map<string, Subject>> {
    const { rows } = await this.pool.query(
      `select stream_id, type, data->>'ownerId' as owner, data->>'tenantId' as tenant, data->>'conversationId' as conv,
              data->>'userId' as uid, data->>'appealId' as appeal
         from parley_events where stream_id = any($1::text[]) and stream_revision = 0`,
      [streamIds],
    );
    const out = new Map<string, Subject>();
    for (const r of rows) {
      if (!r.tenant) continue;
      if (r.type === 'AppealFiled') out.set(r.stream_id, { subjectId: subjectOf(r.tenant, r.uid), scope: `appeal-${r.appeal}` });
      else if (r.owner && r.conv) out.set(r.stream_id, { subjectId: subjectOf(r.tenant, r.owner), scope: r.conv });
    }
    return out;
  }

  async readStream(streamId: string, options: { fromRevision?: number; limit?: number } = {}): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<Row>(
      `select ${COLUMNS} from parley_events where stream_id = $1 and stream_revision >= $2 order by stream_revision limit $3`,
      [streamId, options.fromRevision ?? 0, options.limit ?? 1_000_000],
    );
    return (await this.decodeRows(rows)).map(toRecorded);
  }

  async readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    const out = new Map<string, RecordedEvent[]>(streamIds.map((id) => [id, []]));
    if (out.size === 0) return out;
    const { rows } = await this.pool.query<Row>(
      `select ${COLUMNS} from parley_events where stream_id = any($1::text[]) order by stream_id, stream_revision`,
      [[...out.keys()]],
    );
    for (const event of (await this.decodeRows(rows)).map(toRecorded)) out.get(event.streamId)!.push(event);
    return out;
  }

  async streamRevision(streamId: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ revision: string }>('select revision from parley_streams where stream_id = $1', [streamId]);
    return rows[0] ? Number(rows[0].revision) : null;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { xid, seq } = parsePosition(options.from ?? START);
    const params: unknown[] = [xid.toString(), seq.toString(), options.limit ?? 1000];
    let typeFilter = '';
    if (options.types && options.types.length > 0) {
      params.push(options.types);
      typeFilter = 'and type = any($4::text[])';
    }
    const { rows } = await this.pool.query<Row>(
      `select ${COLUMNS} from parley_events
        where (transaction_id, position) > ($1::xid8, $2::bigint) and ${FENCE} ${typeFilter}
        order by transaction_id, position limit $3`,
      params,
    );
    return (await this.decodeRows(rows)).map(toRecorded);
  }

  async *subscribe(options: SubscribeOptions = {}): AsyncIterable<RecordedEvent> {
    let cursor = options.from ?? START;
    const batchSize = options.batchSize ?? 1000;
    const signal = options.signal;
    let retries = 0;
    while (!signal?.aborted) {
      const seen = this.notifier.current;
      const batch = await this.readAll({ from: cursor, types: options.types, limit: batchSize });
      for (const event of batch) {
        if (signal?.aborted) return;
        cursor = event.position;
        yield event;
      }
      if (batch.length >= batchSize) continue;
      // Woken by an append that is not readable yet (behind the xid fence): look again shortly.
      if (batch.length === 0 && retries > 0) {
        await new Promise((r) => setTimeout(r, [100, 40, 15, 5][retries - 1]));
        retries--;
        continue;
      }
      await this.notifier.wait(seen, this.pollMs, signal);
      if (this.notifier.current !== seen) retries = 4;
    }
  }

  async headPosition(): Promise<Position> {
    const { rows } = await this.pool.query<{ transaction_id: string; position: string }>(
      `select transaction_id, position from parley_events where ${FENCE} order by transaction_id desc, position desc limit 1`,
    );
    return rows[0] ? `${rows[0].transaction_id}/${rows[0].position}` : START;
  }

  // Wait for the next append anywhere (or the poll interval); used by followers that are not iterators.
  waitForAppend(seen: number, signal?: AbortSignal): Promise<void> {
    return this.notifier.wait(seen, this.pollMs, signal);
  }

  get appendVersion(): number {
    return this.notifier.current;
  }

  // Wakes LISTENers (in every process) after an append has committed. The NOTIFY is sent from its
  // own tiny transaction, not from the append's: a NOTIFY holds PostgreSQL's single notification-queue
  // lock until its transaction has committed (WAL flush included), which serialises every notifying
  // commit and cost 2-3x of concurrent append throughput. Throttled: at most one NOTIFY in flight and
  // one per `notifyIntervalMs`; appends in between ask for one more, sent when the interval is over,
  // so every append is followed, within that interval, by a NOTIFY issued after its commit. A lost
  // NOTIFY only delays readers until their next poll.
  private announce(): void {
    this.announcePending = true;
    if (this.announcing || this.announceTimer) return;
    const wait = this.closing ? 0 : this.lastAnnounce + this.notifyIntervalMs - performance.now();
    if (wait > 0) {
      this.announceTimer = setTimeout(() => {
        this.announceTimer = null;
        this.sendAnnouncement();
      }, wait);
    } else {
      this.sendAnnouncement();
    }
  }

  private sendAnnouncement(): void {
    this.announcePending = false;
    this.lastAnnounce = performance.now();
    this.announcing = this.pool
      .query(`select pg_notify('parley_events', '')`)
      .then(() => undefined, () => undefined)
      .then(() => {
        this.announcing = null;
        if (this.announcePending) this.announce();
      });
  }

  async close(): Promise<void> {
    // Send what is still owed now rather than after the interval, then let it finish.
    this.closing = true;
    while (this.announcing || this.announceTimer) {
      if (this.announceTimer) {
        clearTimeout(this.announceTimer);
        this.announceTimer = null;
        this.sendAnnouncement();
      }
      await this.announcing;
    }
    await this.notifier.close();
    await this.pool.end();
  }
}

function expectedParam(expected: ExpectedRevision): string {
  if (typeof expected === 'number') {
    if (!Number.isInteger(expected) || expected < 0) throw new InvalidEventError(`invalid expected revision ${expected}`);
    return String(expected);
  }
  return expected;
}


function toRecorded(row: Row): RecordedEvent {
  const event = upcast({ type: row.type, version: row.version, data: row.data, metadata: row.metadata });
  if (row.kid) markSealedBy(event, row.kid);
  return Object.assign(event, {
    streamId: row.stream_id,
    revision: Number(row.stream_revision),
    position: `${row.transaction_id}/${row.position}`,
    storedVersion: row.version,
    recordedAt: row.recorded_at.toISOString(),
  });
}
