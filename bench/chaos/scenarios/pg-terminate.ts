// PostgreSQL terminates every connection of Parley's database (pg_terminate_backend, as a failover
// or an operator would) N times while clients send turns. Parley must recover by itself: its
// processes stay up, sends succeed again, and no accepted turn is lost or doubled; the read models
// still equal a rebuild. The harness's own connections (application_name) are spared.
import { Cluster, HARNESS_APP, sleep } from '../cluster.ts';
import { send, steadyLoad, tokenFor, waitUntil } from '../client.ts';
import { answered, duplicateEvents, readModelsVersusRebuild, waitForOutcomes, whereStuck } from '../verify.ts';
import { check, countBy, failureNotes, quantile, zero, type Scenario } from '../scenario.ts';
import { timeline } from './api-kill.ts';
import { progressBar } from '../../../bin/progress.ts';

export const pgTerminate: Scenario = {
  name: 'pg-terminate',
  title: 'PostgreSQL connections terminated mid-load',
  async run({ quick }) {
    const rounds = quick ? 2 : 5;
    const c = await Cluster.start({ processes: ['api,projector,saga', 'worker', 'worker'], redis: true });
    const bar = progressBar('pg-terminate');
    let stopLoad!: () => void;
    const stop = new Promise<void>((r) => (stopLoad = r));
    try {
      const tokens = await Promise.all([0, 1, 2, 3].map((i) => tokenFor(c.jwtSecret, { user: `pt${i}`, tenant: 'chaos' })));
      const t0 = Date.now();
      const load = steadyLoad(() => c.apiUrl, tokens, { concurrency: 8, stop, label: 'pg-terminate', params: { maxTokens: 8, temperature: 0 }, awaitAnswer: (g) => answered(c, g) });
      const marks: { at: number; label: string }[] = [];
      const rows: Record<string, unknown>[] = [];
      const recoveries: number[] = [];
      for (let k = 0; k < rounds; k++) {
        bar.update(k, rounds);
        await sleep(2500 + Math.random() * 1500);
        const killed = await c.query<{ ok: boolean }>(
          `select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and application_name <> $1`, [HARNESS_APP]);
        const at = Date.now();
        marks.push({ at, label: `terminate ${k + 1}` });
        // recovered = a fresh turn is accepted and answered end to end
        const probeToken = tokens[0]!;
        const recovered = await waitUntil(async () => {
          const r = await send(c.apiUrl, probeToken, { content: `probe after terminate ${k}`, params: { maxTokens: 2, temperature: 0 } });
          if (!r.generationId) return false;
          return (await waitForOutcomes(c, [r.generationId], 20_000)).ended === 1;
        }, 60_000, 200);
        if (recovered !== null) recoveries.push(recovered);
        rows.push({ round: k + 1, backendsTerminated: killed.length, recoveredEndToEndMs: recovered ?? 'not in 60 s', processesAlive: c.procs.filter((p) => p.alive).length });
      }
      await sleep(2000);
      bar.update(rounds, rounds);
      stopLoad();
      const sent = await load;
      const alive = c.procs.filter((p) => p.alive).length;
      const acked = sent.filter((s) => s.generationId).map((s) => s.generationId!);
      const ackedOutcome = await waitForOutcomes(c, acked, 120_000);
      const logged = (await c.query<{ g: string }>(`select data->>'generationId' as g from parley_events where type = 'MessageSubmitted'`)).map((r) => r.g);
      const loggedOutcome = await waitForOutcomes(c, logged, 60_000);
      const dups = await duplicateEvents(c);
      const models = await readModelsVersusRebuild(c);
      const failed = sent.filter((s) => !s.generationId);
      return {
        setup: `processes: api,projector,saga | worker | worker, own redis-server; random-weight model, maxTokens 8; 8 clients sending back to back; ${rounds} rounds of pg_terminate_backend on every connection of Parley's database`,
        checks: [
          check('processes still running', `${alive}/${c.procs.length}`, 'all', alive === c.procs.length),
          check('recovered after every round (a new turn answered)', `${recoveries.length}/${rounds}`, 'all', recoveries.length === rounds),
          zero('acknowledged turns without an outcome', ackedOutcome.lost.length),
          zero('turns in the log without an outcome', loggedOutcome.lost.length),
          zero('generations with two terminal events', loggedOutcome.doubleEnded.length),
          zero('duplicate MessageSubmitted / safety decisions / requests', dups.duplicateMessages + dups.duplicateInputChecks + dups.duplicateRequests),
          check('read models = rebuild from the log', models.equal, 'true', models.equal),
        ],
        figures: {
          lostWhere: await whereStuck(c, loggedOutcome.lost),
          rounds, sends: sent.length, acknowledged: acked.length, failedSends: countBy(failed, (s) => s.code ?? '?'), outcomes: loggedOutcome.byOutcome,
          recoveryMsP50: quantile(recoveries, 0.5), recoveryMsMax: quantile(recoveries, 1),
        },
        rounds: rows,
        series: timeline(sent, t0, marks, 'sendMessage outcomes per second, connections terminated at the markers'),
        notes: [
          ...failureNotes(sent),
          ...models.tables.filter((t) => t.example).map((t) => `${t.table} differs from its rebuild (${t.onlyLive} rows only live, ${t.onlyRebuilt} only rebuilt; columns differing in rows of the same key: ${JSON.stringify(t.differingColumns)}), e.g. live ${t.example!.live ?? '-'} / rebuilt ${t.example!.rebuilt ?? '-'}`),
          ...c.procs.filter((p) => !p.alive).map((p) => p.deathNote()),
        ],
      };
    } finally {
      stopLoad();
      bar.stop();
      await c.stop();
    }
  },
};
