// kill -9 of a checkpointed consumer (the inference saga, or the projector) while it has work in
// hand, N times, under a steady load of turns. After each restart it must catch up; at the end
// every accepted turn must have exactly one outcome, nothing the consumer writes may be
// duplicated (input safety decisions, generation requests), and the read models must equal a
// rebuild of them from the log.
import { Cluster, sleep } from '../cluster.ts';
import { steadyLoad, tokenFor, waitUntil } from '../client.ts';
import { answered, duplicateEvents, readModelsVersusRebuild, waitForOutcomes, whereStuck } from '../verify.ts';
import { check, countBy, failureNotes, quantile, zero, type Scenario } from '../scenario.ts';
import { progressBar } from '../../../bin/progress.ts';

/** Events after this consumer's checkpoint: the work it had in hand (or queued) when killed. */
async function lag(c: Cluster, name: string): Promise<number> {
  const [row] = await c.query<{ n: number }>(
    `select count(*)::int as n from parley_events e, parley_checkpoints k
      where k.name = $1 and (e.transaction_id, e.position) > (split_part(k.position, '/', 1)::xid8, split_part(k.position, '/', 2)::bigint)`, [name]);
  return row?.n ?? 0;
}

/** The last event in the log now, as "<xid>/<position>". */
async function head(c: Cluster): Promise<string | null> {
  const [row] = await c.query<{ p: string }>(`select transaction_id::text || '/' || position as p from parley_events order by transaction_id desc, position desc limit 1`);
  return row?.p ?? null;
}

/** Whether every named checkpoint has reached `position`. */
async function reached(c: Cluster, names: string[], position: string): Promise<boolean> {
  const [xid, seq] = position.split('/');
  const rows = await c.query<{ ok: boolean }>(
    `select (split_part(position, '/', 1)::xid8, split_part(position, '/', 2)::bigint) >= ($2::xid8, $3::bigint) as ok from parley_checkpoints where name = any($1)`, [names, xid, seq]);
  return rows.length === names.length && rows.every((r) => r.ok);
}

function consumerKill(victimRole: 'saga' | 'projector', checkpoints: string[]): Scenario {
  const name = `${victimRole}-kill`;
  return {
    name,
    title: `kill -9 the ${victimRole === 'saga' ? 'inference saga' : 'projector'} mid-batch`,
    async run({ quick }) {
      const rounds = quick ? 3 : 10;
      const others = victimRole === 'saga' ? 'api,projector' : 'api,saga';
      const c = await Cluster.start({ processes: [others, victimRole, 'worker'], env: { PARLEY_READY_MAX_LAG_S: '600' } });
      const rows: Record<string, unknown>[] = [];
      const lagAtKill: [number, number][] = [];
      const catchUp: [number, number][] = [];
      const bar = progressBar(name);
      let stopLoad!: () => void;
      const stop = new Promise<void>((r) => (stopLoad = r));
      try {
        const tokens = await Promise.all([0, 1, 2, 3].map((i) => tokenFor(c.jwtSecret, { user: `ck${i}`, tenant: 'chaos' })));
        const load = steadyLoad(() => c.apiUrl, tokens, { concurrency: 6, stop, label: name, params: { maxTokens: 4, temperature: 0 }, awaitAnswer: (g) => answered(c, g) });
        const victim = c.byRoles(victimRole)[0]!;
        for (let round = 0; round < rounds; round++) {
          bar.update(round, rounds);
          await sleep(1500 + Math.random() * 2000);
          // kill when the consumer is behind the head of the log, i.e. has a batch to do
          await waitUntil(async () => (await lag(c, checkpoints[0]!)) > 0, 5000, 10);
          const behind = Object.fromEntries(await Promise.all(checkpoints.map(async (k) => [k, await lag(c, k)] as const)));
          await victim.kill9();
          const killedAt = Date.now();
          await sleep(500 + Math.random() * 1000); // down for a moment while turns keep arriving
          await c.restart(victim);
          const restartedMs = Date.now() - killedAt;
          // caught up = every checkpoint past what the log held when it came back
          const target = await head(c);
          const caughtUp = target ? await waitUntil(() => reached(c, checkpoints, target), 30_000, 100) : 0;
          const maxBehind = Math.max(...Object.values(behind));
          lagAtKill.push([round + 1, maxBehind]);
          catchUp.push([round + 1, (restartedMs + (caughtUp ?? 30_000)) / 1000]);
          rows.push({ round: round + 1, eventsBehindAtKill: JSON.stringify(behind), restartMs: restartedMs, caughtUpAfterRestartMs: caughtUp ?? 'no (30 s)' });
        }
        bar.update(rounds, rounds);
        stopLoad();
        const sent = await load;
        const accepted = sent.filter((s) => s.generationId).map((s) => s.generationId!);
        const final = await waitForOutcomes(c, accepted, 120_000);
        const dups = await duplicateEvents(c);
        const models = await readModelsVersusRebuild(c);
        const refused = countBy(sent.filter((s) => !s.generationId), (s) => s.code ?? '?');
        return {
          setup: `processes: ${others} | ${victimRole} | worker; random-weight model, maxTokens 4; 6 clients sending turns back to back throughout`,
          checks: [
            check('kills with the consumer behind the log', lagAtKill.filter(([, n]) => n > 0).length, `${rounds}`, lagAtKill.every(([, n]) => n > 0)),
            zero('accepted turns without an outcome', final.lost.length),
            zero('generations with two terminal events', final.doubleEnded.length),
            zero('duplicate MessageSubmitted', dups.duplicateMessages),
            zero('duplicate input safety decisions', dups.duplicateInputChecks),
            zero('duplicate GenerationRequested', dups.duplicateRequests),
            check('read models = rebuild from the log', models.equal, 'true', models.equal),
            zero('sends refused or failed while it was down', sent.length - accepted.length),
          ],
          figures: {
            lostWhere: await whereStuck(c, final.lost),
            kills: rounds, sends: sent.length, accepted: accepted.length, refused, outcomes: final.byOutcome,
            eventsBehindAtKillP50: quantile(lagAtKill.map((x) => x[1]), 0.5), eventsBehindAtKillMax: quantile(lagAtKill.map((x) => x[1]), 1),
            killToCaughtUpSecondsP50: quantile(catchUp.map((x) => x[1]), 0.5), killToCaughtUpSecondsMax: quantile(catchUp.map((x) => x[1]), 1),
            readModelTables: models.tables.map((t) => `${t.table}: ${t.live} rows${t.onlyLive || t.onlyRebuilt ? ` (${t.onlyLive} only live, ${t.onlyRebuilt} only rebuilt)` : ''}`).join('; '),
          },
          rounds: rows,
          series: { title: `${victimRole}: events behind at kill, and kill → caught up`, xLabel: 'kill', yLabel: 'events / seconds', lines: [
            { name: 'events behind at kill', points: lagAtKill }, { name: 'kill → caught up (s)', points: catchUp }] },
          notes: [
            ...failureNotes(sent),
            ...(models.caughtUpMs === null ? ['the read models had not caught up with the log 120 s after the load stopped, so they were not compared'] : []),
          ].concat(models.tables.filter((t) => t.example).map((t) => `${t.table} differs from its rebuild (${t.onlyLive} rows only live, ${t.onlyRebuilt} only rebuilt; columns differing in rows of the same key: ${JSON.stringify(t.differingColumns)}), e.g. live ${t.example!.live ?? '-'} / rebuilt ${t.example!.rebuilt ?? '-'}`)),
        };
      } finally {
        stopLoad();
        bar.stop();
        await c.stop();
      }
    },
  };
}

export const sagaKill = consumerKill('saga', ['inference-saga']);
export const projectorKill = consumerKill('projector', ['history', 'audit', 'rlhf', 'usage']);
