// 1,000 sendMessage calls at once over 10 conversations (10 users, one conversation each, 100
// concurrent sends into each). Every send must be answered with its ids (no CONCURRENCY/CONFLICT
// refusal for what is a normal race), every turn must be in the conversation exactly once, and
// every answer must end.
import { Cluster } from '../cluster.ts';
import { gql, send, tokenFor, type SendResult } from '../client.ts';
import { duplicateEvents, waitForOutcomes, whereStuck } from '../verify.ts';
import { check, countBy, failureNotes, quantile, zero, type Scenario } from '../scenario.ts';
import { progressBar } from '../../../bin/progress.ts';

// A client that gives up sooner counts as a failed answer; turns appended after it gave up show as
// "in the log but not told about".
const SEND_TIMEOUT_MS = 120_000;

export const concurrentSends: Scenario = {
  name: 'concurrent-sends',
  title: '1,000 concurrent sends over 10 conversations',
  async run({ quick }) {
    const conversations = 10;
    const perConversation = quick ? 20 : 100;
    const c = await Cluster.start({ processes: ['api,projector,saga', 'worker', 'worker'], redis: true });
    const bar = progressBar('concurrent-sends');
    try {
      const tokens = await Promise.all(Array.from({ length: conversations }, (_, i) => tokenFor(c.jwtSecret, { user: `cs${i}`, tenant: 'chaos' })));
      const first = await Promise.all(tokens.map((t, i) => send(c.apiUrl, t, { content: `conversation ${i} opens`, params: { maxTokens: 4, temperature: 0 } })));
      if (first.some((f) => !f.conversationId)) throw new Error(`could not open the conversations: ${JSON.stringify(first.map((f) => f.code))}`);
      const total = conversations * perConversation;
      let done = 0;
      const t0 = Date.now();
      const results: (SendResult & { conv: number })[] = await Promise.all(
        Array.from({ length: total }, async (_, k) => {
          const conv = k % conversations;
          const r = await send(c.apiUrl, tokens[conv]!, { content: `send ${k} into conversation ${conv}`, conversationId: first[conv]!.conversationId!, params: { maxTokens: 4, temperature: 0 } }, SEND_TIMEOUT_MS);
          bar.update(++done, total);
          return { ...r, conv };
        }),
      );
      const burstMs = Date.now() - t0;
      bar.stop();
      const accepted = results.filter((r) => r.generationId);
      const failed = results.filter((r) => !r.generationId);
      const gens = [...first.map((f) => f.generationId!), ...accepted.map((r) => r.generationId!)];
      const outcome = await waitForOutcomes(c, gens, 300_000);
      // The log per conversation: each sent text exactly once (decrypted), nothing that was not sent.
      let missing = 0, duplicated = 0, extra = 0;
      for (let i = 0; i < conversations; i++) {
        const events = await c.store.readStream(`conversation-${first[i]!.conversationId}`);
        const texts = countBy(events.filter((e) => e.type === 'MessageSubmitted'), (e) => (e.type === 'MessageSubmitted' ? e.data.content : ''));
        const expected = results.filter((r) => r.conv === i && r.generationId).map((r) => r.content).concat(`conversation ${i} opens`);
        for (const t of expected) { if (!texts[t]) missing++; else if (texts[t]! > 1) duplicated += texts[t]! - 1; }
        const expectedSet = new Set(expected);
        const refusedSet = new Set(results.filter((r) => r.conv === i && !r.generationId).map((r) => r.content));
        for (const t of Object.keys(texts)) if (!expectedSet.has(t) && !refusedSet.has(t)) extra++;
        // refused sends whose turn was appended anyway: side effects the client was told did not happen
        for (const t of refusedSet) if (texts[t]) extra++;
      }
      // The history read model, as a user sees it.
      const seen = await Promise.all(first.map((f, i) => gql(c.apiUrl, tokens[i]!, `query($id: ID!) { conversation(id: $id) { messages { role content } } }`, { id: f.conversationId })));
      const userMessages = seen.map((r) => (r.data?.conversation?.messages ?? []).filter((m: { role: string }) => m.role === 'user').length);
      const expectedPerConv = Array.from({ length: conversations }, (_, i) => results.filter((r) => r.conv === i && r.generationId).length + 1);
      const dups = await duplicateEvents(c);
      const latencies = results.map((r) => r.ms);
      return {
        setup: `processes: api,projector,saga | worker | worker, own redis-server; random-weight model, maxTokens 4; 10 users × 1 conversation, ${perConversation} sends into each fired at once (${total} in flight, each client waiting up to ${SEND_TIMEOUT_MS / 1000} s for its answer), premium tier`,
        checks: [
          zero('failed answers (errors returned to sendMessage)', failed.length),
          zero('accepted turns missing from the log', missing),
          zero('turns duplicated in the log', duplicated + dups.duplicateMessages),
          zero('turns in the log the client was not told about', extra),
          zero('accepted turns without an outcome', outcome.lost.length),
          check('history shows every turn', userMessages.join(','), expectedPerConv.join(','), userMessages.every((n, i) => n === expectedPerConv[i])),
        ],
        figures: {
          lostWhere: await whereStuck(c, outcome.lost),
          sends: total, accepted: accepted.length, failedByCode: countBy(failed, (r) => r.code ?? '?'), burstSeconds: burstMs / 1000,
          sendMsP50: quantile(latencies, 0.5), sendMsP95: quantile(latencies, 0.95), sendMsMax: quantile(latencies, 1),
          allAnsweredSeconds: (outcome.waitedMs + burstMs) / 1000, outcomes: outcome.byOutcome,
        },
        series: {
          title: 'sendMessage latency, 1,000 at once (sorted)', xLabel: 'percent of sends', yLabel: 'ms',
          lines: [
            { name: 'accepted', points: accepted.map((r) => r.ms).sort((a, b) => a - b).map((ms, i, xs) => [(100 * (i + 1)) / xs.length, ms]) },
            ...(failed.length ? [{ name: 'failed', points: failed.map((r) => r.ms).sort((a, b) => a - b).map((ms, i, xs) => [(100 * (i + 1)) / xs.length, ms] as [number, number]) }] : []),
          ],
        },
        notes: [...failureNotes(results), ...c.procs.filter((p) => !p.alive).map((p) => p.deathNote())],
      };
    } finally {
      bar.stop();
      await c.stop();
    }
  },
};
