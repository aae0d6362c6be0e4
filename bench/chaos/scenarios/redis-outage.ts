// Redis becomes unreachable under the scaled setup: first paused (SIGSTOP: connections hang, as a
// stalled or partitioned Redis), then killed (connections refused) and started again empty. Our own
// redis-server on a free port (never the shared 6379). Per phase: what clients see (sends accepted
// or refused, and with which code; streams ending with the server's text), and at the end: no
// accepted turn lost. The degraded behaviour is reported as measured.
import { Cluster, sleep } from '../cluster.ts';
import { follow, send, steadyLoad, tokenFor, type LoadRecord, type StreamResult } from '../client.ts';
import { answered, serverText, waitForOutcomes, whereStuck } from '../verify.ts';
import { check, countBy, quantile, zero, type Scenario } from '../scenario.ts';
import { timeline } from './api-kill.ts';
import { progressBar } from '../../../bin/progress.ts';

type Phase = { name: string; start: number; end: number; streams: { id: string; result: StreamResult; serverText: string; finish: string | null }[] };

export const redisOutage: Scenario = {
  name: 'redis-outage',
  title: 'Redis unreachable (paused, then killed) under the scaled setup',
  async run({ quick }) {
    const outageMs = quick ? 5000 : 12_000;
    const c = await Cluster.start({ processes: ['api,projector,saga', 'worker', 'worker'], redis: true });
    const redis = c.redis!;
    const bar = progressBar('redis-outage');
    let stopLoad!: () => void;
    const stop = new Promise<void>((r) => (stopLoad = r));
    const phases: Phase[] = [];
    try {
      const tokens = await Promise.all([0, 1, 2, 3].map((i) => tokenFor(c.jwtSecret, { user: `ro${i}`, tenant: 'chaos' })));
      const streamToken = await tokenFor(c.jwtSecret, { user: 'ro-stream', tenant: 'chaos' });
      const t0 = Date.now();
      const load = steadyLoad(() => c.apiUrl, tokens, { concurrency: 6, stop, label: 'redis-outage', params: { maxTokens: 4, temperature: 0 }, awaitAnswer: (g) => answered(c, g) });
      const followers: Promise<void>[] = [];
      const phase = async (name: string, ms: number, k: number, total: number) => {
        bar.update(k, total);
        const p: Phase = { name, start: Date.now(), end: 0, streams: [] };
        phases.push(p);
        // two longer answers started in this phase, followed live with graphql-sse
        for (let i = 0; i < 2; i++) {
          followers.push((async () => {
            const s = await send(c.apiUrl, streamToken, { content: `Tell a long story (${name} ${i})`, params: { maxTokens: 64, temperature: 0 } });
            if (!s.generationId) return;
            const result = await follow(c.apiUrl, streamToken, s.generationId, { timeoutMs: 90_000 });
            await waitForOutcomes(c, [s.generationId], 60_000);
            const server = await serverText(c, s.generationId);
            p.streams.push({ id: s.generationId, result, serverText: server.text, finish: server.finishReason });
          })());
        }
        await sleep(ms);
        p.end = Date.now();
      };
      const marks: { at: number; label: string }[] = [];
      await phase('redis up', 5000, 0, 5);
      marks.push({ at: Date.now(), label: 'SIGSTOP' });
      redis.pause();
      await phase('redis paused (SIGSTOP)', outageMs, 1, 5);
      marks.push({ at: Date.now(), label: 'SIGCONT' });
      redis.resume();
      await phase('redis resumed', 6000, 2, 5);
      marks.push({ at: Date.now(), label: 'kill -9' });
      await redis.kill9();
      await phase('redis killed (refused)', outageMs, 3, 5);
      marks.push({ at: Date.now(), label: 'restart' });
      await redis.start();
      const backAt = Date.now();
      await phase('redis restarted (empty)', 8000, 4, 5);
      bar.update(5, 5);
      stopLoad();
      const sent = await load;
      await Promise.all(followers);
      const firstOkAfterBack = sent.filter((s) => s.generationId && s.at >= backAt).sort((a, b) => a.at - b.at)[0];
      const acked = sent.filter((s) => s.generationId).map((s) => s.generationId!);
      const outcome = await waitForOutcomes(c, acked, 120_000);
      const logged = (await c.query<{ g: string }>(`select data->>'generationId' as g from parley_events where type = 'MessageSubmitted'`)).map((r) => r.g);
      const loggedOutcome = await waitForOutcomes(c, logged, 60_000);
      const alive = c.procs.filter((p) => p.alive).length;
      const inPhase = (p: Phase) => sent.filter((s) => s.at >= p.start && s.at < (p.end || Infinity));
      const rows = phases.map((p) => {
        const xs: LoadRecord[] = inPhase(p);
        const ok = xs.filter((s) => s.generationId);
        return {
          phase: p.name, seconds: ((p.end - p.start) / 1000).toFixed(1), sends: xs.length, accepted: ok.length,
          refused: JSON.stringify(countBy(xs.filter((s) => !s.generationId), (s) => s.code ?? '?')),
          sendMsP50: quantile(xs.map((s) => s.ms), 0.5)?.toFixed(0), sendMsMax: quantile(xs.map((s) => s.ms), 1)?.toFixed(0),
          streams: p.streams.length,
          streamsEnded: p.streams.filter((s) => s.result.ended).length,
          streamTextEqualsServer: p.streams.filter((s) => s.result.text === s.serverText).length,
          streamErrors: p.streams.filter((s) => s.result.error).map((s) => s.result.error!.slice(0, 80)).join('; '),
        };
      });
      const streams = phases.flatMap((p) => p.streams);
      return {
        setup: `processes: api,projector,saga | worker | worker with REDIS_URL = our own redis-server (port ${redis.port}); random-weight model; 6 clients sending (maxTokens 4) and 2 streamed answers (maxTokens 64) started in every phase; outages of ${outageMs / 1000} s`,
        checks: [
          check('processes still running', `${alive}/${c.procs.length}`, 'all', alive === c.procs.length),
          zero('acknowledged turns without an outcome', outcome.lost.length),
          zero('turns in the log without an outcome', loggedOutcome.lost.length),
          zero('generations with two terminal events', loggedOutcome.doubleEnded.length),
          check('streams that ended', `${streams.filter((s) => s.result.ended).length}/${streams.length}`, 'all', streams.every((s) => s.result.ended)),
          zero('streams whose client text ≠ server text', streams.filter((s) => s.result.text !== s.serverText).length),
          check('sends accepted again after Redis restarted', firstOkAfterBack ? `${firstOkAfterBack.at - backAt} ms` : 'none', 'yes', !!firstOkAfterBack),
        ],
        figures: {
          lostWhere: await whereStuck(c, loggedOutcome.lost), sends: sent.length, acknowledged: acked.length, outcomes: loggedOutcome.byOutcome },
        rounds: rows,
        series: timeline(sent, t0, marks, 'sendMessage outcomes per second through the Redis outages'),
        notes: c.procs.filter((p) => !p.alive).map((p) => p.deathNote()),
      };
    } finally {
      stopLoad();
      redis.resume();
      bar.stop();
      await c.stop();
    }
  },
};

