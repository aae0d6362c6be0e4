// kill -9 of the worker running answers mid-stream, N times. Each round opens three GraphQL
// streams (graphql-sse client) and one OpenAI stream (openai client), waits until tokens reach the
// clients, kills the worker that holds most of the running jobs and starts a replacement. Every
// stream must end, and what each client shows must be exactly the server's final answer (the
// surviving attempt in the log), with no token index delivered twice.
import OpenAI from 'openai';
import { Cluster, sleep, type RoleProcess } from '../cluster.ts';
import { follow, send, tokenFor, waitUntil, type StreamResult } from '../client.ts';
import { serverText, waitForOutcomes, whereStuck } from '../verify.ts';
import { check, quantile, zero, type Scenario } from '../scenario.ts';
import { progressBar } from '../../../bin/progress.ts';

const GQL_STREAMS = 3;
const MAX_TOKENS = 96;

export const workerKill: Scenario = {
  name: 'worker-kill',
  title: 'kill -9 a worker mid-stream',
  async run({ quick }) {
    const rounds = quick ? 3 : 20;
    const c = await Cluster.start({ processes: ['api,projector,saga', 'worker', 'worker'], redis: true });
    const rows: Record<string, unknown>[] = [];
    const notes: string[] = [];
    const recovery: [number, number][] = [];
    let streams = 0, ended = 0, mismatched = 0, dupIdx = 0, dupChunks = 0, killsMissed = 0, openaiErrors = 0, notCompleted = 0;
    const allGenerations: string[] = [];
    const bar = progressBar('worker-kill');
    try {
      const token = await tokenFor(c.jwtSecret, { user: 'wk', tenant: 'chaos' });
      const openai = new OpenAI({ baseURL: `${c.apiUrl}/v1`, apiKey: token, maxRetries: 0, timeout: 120_000 });
      for (let round = 0; round < rounds; round++) {
        bar.update(round, rounds);
        const seen = new Map<string, number>();
        const sent = await Promise.all(Array.from({ length: GQL_STREAMS }, (_, k) =>
          send(c.apiUrl, token, { content: `Write a long story, round ${round} part ${k}`, params: { temperature: 0, maxTokens: MAX_TOKENS } })));
        const ids = sent.map((s) => s.generationId).filter((g): g is string => !!g);
        const follows = ids.map((id) => follow(c.apiUrl, token, id, { onChunk: (ch) => { if (ch.delta) seen.set(id, (seen.get(id) ?? 0) + 1); } }));
        // The OpenAI client: text is released a sentence at a time by the output filter.
        let openaiText = '';
        let openaiGen: string | null = null;
        const openaiRun = (async () => {
          const { data, response } = await openai.chat.completions
            .create({ model: 'parley-tiny', messages: [{ role: 'user', content: `Tell me everything, round ${round}` }], max_tokens: MAX_TOKENS, stream: true })
            .withResponse();
          openaiGen = response.headers.get('x-parley-generation');
          for await (const chunk of data) openaiText += chunk.choices[0]?.delta?.content ?? '';
        })().then(() => null, (e: Error) => e.message);

        // Kill the worker holding the most running jobs, once tokens are reaching the clients.
        let victim: RoleProcess | null = null;
        let tokensBeforeKill = 0;
        await waitUntil(async () => {
          if ([...seen.values()].reduce((a, b) => a + b, 0) < 2) return false;
          const jobs = await c.query<{ worker_id: string }>(`select worker_id from generation_jobs where status = 'running' and worker_id is not null`);
          const workers = c.procs.filter((p) => p.roles === 'worker' && p.alive);
          const load = workers.map((w) => jobs.filter((j) => j.worker_id.startsWith(`${w.pid}-`)).length);
          const best = load.indexOf(Math.max(...load));
          if (load[best]! > 0) { victim = workers[best]!; return true; }
          return false;
        }, 60_000, 20);
        const killedAt = Date.now();
        let runningOnVictim = 0;
        if (victim) {
          const v = victim as RoleProcess;
          tokensBeforeKill = [...seen.values()].reduce((a, b) => a + b, 0);
          runningOnVictim = (await c.query(`select 1 from generation_jobs where status = 'running' and worker_id like $1`, [`${v.pid}-%`])).length;
          await v.kill9();
          void v.start().catch((e: Error) => notes.push(`replacement worker failed to start: ${e.message.slice(0, 200)}`)); // a replacement (an orchestrator would restart it); loads while the other worker retries
        } else killsMissed++;

        const results: StreamResult[] = await Promise.all(follows);
        const openaiError = await openaiRun;
        const doneAt = Date.now();
        if (openaiError) openaiErrors++;
        let roundMismatch = 0;
        for (let k = 0; k < ids.length; k++) {
          const r = results[k]!;
          const server = await serverText(c, ids[k]!);
          streams++;
          if (r.ended) ended++;
          if (server.finishReason === null) notCompleted++;
          if (r.text !== server.text) { mismatched++; roundMismatch++; }
          dupIdx += r.duplicateIndices;
          dupChunks += server.duplicateChunks;
        }
        let openaiMatch: boolean | null = null;
        if (openaiGen) {
          const server = await serverText(c, openaiGen);
          streams++;
          if (!openaiError) ended++;
          openaiMatch = !openaiError && openaiText === server.text;
          if (!openaiMatch) { mismatched++; roundMismatch++; }
          dupChunks += server.duplicateChunks;
          allGenerations.push(openaiGen);
        } else if (openaiError) { streams++; mismatched++; roundMismatch++; notes.push(`round ${round}: OpenAI request failed before headers: ${openaiError}`); }
        allGenerations.push(...ids);
        recovery.push([round + 1, (doneAt - killedAt) / 1000]);
        rows.push({
          round: round + 1, killedWorker: victim ? 'yes' : 'no', runningOnVictim, tokensBeforeKill,
          sendsRefused: sent.filter((x) => !x.generationId).map((x) => `${x.code}: ${x.message ?? ''}`.slice(0, 120)).join('; '),
          streamsEnded: `${results.filter((r) => r.ended).length + (openaiError ? 0 : 1)}/${ids.length + 1}`,
          resets: results.reduce((a, r) => a + r.resets, 0), textMismatches: roundMismatch,
          attempts: (await Promise.all(ids.map((g) => serverText(c, g)))).map((s) => s.attempt).join(','),
          openai: openaiError ? `error: ${openaiError.slice(0, 80)}` : openaiMatch ? 'text = server' : 'text differs',
          killToLastEndS: Number(((doneAt - killedAt) / 1000).toFixed(2)),
        });
        // the replacement must be up before the next kill, so two workers compete again
        await waitUntil(async () => c.procs.filter((p) => p.roles === 'worker' && p.alive && p.out.includes('PARLEY_READY')).length === 2, 90_000, 200);
        await sleep(200);
      }
      bar.update(rounds, rounds);
      const final = await waitForOutcomes(c, allGenerations, 60_000);
      return {
        setup: `1 process api+projector+saga, 2 worker processes, own redis-server (port ${c.redis!.port}), random-weight model, maxTokens ${MAX_TOKENS}, PARLEY_LEASE_MS 1500; per round ${GQL_STREAMS} graphql-sse streams + 1 openai stream`,
        checks: [
          check('kills landed mid-stream', rounds - killsMissed, `${rounds}`, killsMissed === 0),
          check('streams ended', `${ended}/${streams}`, 'all', ended === streams),
          zero('generations lost (no terminal event)', final.lost.length),
          zero('generations with two terminal events', final.doubleEnded.length),
          zero('client text ≠ server final text', mismatched),
          zero('token indices delivered twice to a client', dupIdx),
          zero('token chunks written twice in the log', dupChunks),
        ],
        figures: {
          lostWhere: await whereStuck(c, final.lost), rounds, streams, ended, mismatched, duplicateIndices: dupIdx, duplicateChunks: dupChunks, openaiErrors, notCompleted, outcomes: final.byOutcome,
          killToLastEndSecondsP50: quantile(recovery.map((r) => r[1]), 0.5), killToLastEndSecondsMax: quantile(recovery.map((r) => r[1]), 1) },
        rounds: rows,
        series: { title: 'kill -9 → last stream of the round ended', xLabel: 'round', yLabel: 'seconds', lines: [{ name: 'kill → all streams done', points: recovery }] },
        notes,
      };
    } finally {
      bar.stop();
      await c.stop();
    }
  },
};
