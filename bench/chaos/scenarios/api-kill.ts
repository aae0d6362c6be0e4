// kill -9 of the API process while clients are sending turns, N times, restarted on the same port.
// Every sendMessage that got an answer must end with an outcome; sends in flight at the kill get a
// connection error, and any of those whose turn was appended anyway must end too (every
// MessageSubmitted in the log is followed to its end, not only the acknowledged ones).
import { Cluster, sleep } from '../cluster.ts';
import { steadyLoad, tokenFor, waitUntil, type LoadRecord } from '../client.ts';
import { answered, duplicateEvents, waitForOutcomes, whereStuck } from '../verify.ts';
import { check, countBy, failureNotes, zero, type Scenario, type Series } from '../scenario.ts';
import { progressBar } from '../../../bin/progress.ts';

/** Sends per second, accepted and not, from the start of the load; the kills as markers. */
export function timeline(sent: LoadRecord[], t0: number, marks: { at: number; label: string }[], title: string): Series {
  const buckets = new Map<number, { ok: number; failed: number }>();
  for (const s of sent) {
    const b = Math.floor((s.at - t0) / 1000);
    const e = buckets.get(b) ?? { ok: 0, failed: 0 };
    if (s.generationId) e.ok++; else e.failed++;
    buckets.set(b, e);
  }
  const last = Math.max(0, ...buckets.keys());
  const xs = Array.from({ length: last + 1 }, (_, i) => i);
  return {
    title, xLabel: 'seconds since the load started', yLabel: 'sends per second',
    lines: [{ name: 'accepted', points: xs.map((x) => [x, buckets.get(x)?.ok ?? 0]) }, { name: 'refused or failed', points: xs.map((x) => [x, buckets.get(x)?.failed ?? 0]) }],
    markers: marks.map((m) => ({ x: (m.at - t0) / 1000, label: m.label })),
  };
}

export const apiKill: Scenario = {
  name: 'api-kill',
  title: 'kill -9 the API mid-load',
  async run({ quick }) {
    const kills = quick ? 1 : 3;
    const c = await Cluster.start({ processes: ['api', 'projector,saga', 'worker', 'worker'], redis: true });
    const bar = progressBar('api-kill');
    let stopLoad!: () => void;
    const stop = new Promise<void>((r) => (stopLoad = r));
    try {
      const tokens = await Promise.all([0, 1, 2, 3].map((i) => tokenFor(c.jwtSecret, { user: `ak${i}`, tenant: 'chaos' })));
      const t0 = Date.now();
      const load = steadyLoad(() => c.apiUrl, tokens, { concurrency: 8, stop, label: 'api-kill', params: { maxTokens: 4, temperature: 0 }, awaitAnswer: (g) => answered(c, g) });
      const api = c.byRoles('api')[0]!;
      const marks: { at: number; label: string }[] = [];
      const rows: Record<string, unknown>[] = [];
      for (let k = 0; k < kills; k++) {
        bar.update(k, kills);
        await sleep(3000 + Math.random() * 2000);
        await api.kill9();
        const killedAt = Date.now();
        marks.push({ at: killedAt, label: `kill ${k + 1}` });
        await sleep(1000);
        await c.restart(api);
        const up = await waitUntil(async () => (await fetch(`${c.apiUrl}/healthz`)).ok, 30_000, 100);
        rows.push({ kill: k + 1, downMs: Date.now() - killedAt, healthyAfterRestartMs: up });
      }
      await sleep(3000);
      bar.update(kills, kills);
      stopLoad();
      const sent = await load;
      const acked = sent.filter((s) => s.generationId).map((s) => s.generationId!);
      const ackedOutcome = await waitForOutcomes(c, acked, 120_000);
      // every turn in the log, acknowledged or not
      const logged = (await c.query<{ g: string }>(`select data->>'generationId' as g from parley_events where type = 'MessageSubmitted'`)).map((r) => r.g);
      const loggedOutcome = await waitForOutcomes(c, logged, 60_000);
      const ackedSet = new Set(acked);
      const unacked = logged.filter((g) => !ackedSet.has(g));
      const dups = await duplicateEvents(c);
      const failed = sent.filter((s) => !s.generationId);
      return {
        setup: `processes: api | projector,saga | worker | worker, own redis-server; random-weight model, maxTokens 4; 8 clients sending back to back; ${kills} kills, API restarted after 1 s on the same port`,
        checks: [
          zero('acknowledged turns without an outcome', ackedOutcome.lost.length),
          zero('turns in the log without an outcome', loggedOutcome.lost.length),
          zero('acknowledged turns missing from the log', acked.filter((g) => !logged.includes(g)).length),
          zero('generations with two terminal events', loggedOutcome.doubleEnded.length),
          zero('duplicate MessageSubmitted', dups.duplicateMessages),
          check('sends failed around the kills (connection errors expected)', failed.length, 'reported', true),
        ],
        figures: {
          lostWhere: await whereStuck(c, loggedOutcome.lost),
          kills, sends: sent.length, acknowledged: acked.length, turnsInLog: logged.length,
          appendedButUnacknowledged: unacked.length, failedSends: countBy(failed, (s) => s.code ?? '?'), outcomes: loggedOutcome.byOutcome,
        },
        rounds: rows,
        series: timeline(sent, t0, marks, 'sendMessage outcomes per second around kill -9 of the API'),
        notes: failureNotes(sent).concat(unacked.length ? [`${unacked.length} turn(s) were appended but the client got no answer (in flight at the kill); each was followed to its end: ${loggedOutcome.lost.length} without an outcome.`] : []),
      };
    } finally {
      stopLoad();
      bar.stop();
      await c.stop();
    }
  },
};
