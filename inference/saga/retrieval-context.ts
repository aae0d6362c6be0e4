import type { RecordedEvent } from '../../eventstore/port.ts';
import type { RetrievalRecord, RetrievalSetting, RetrievedSource } from '../../schemas/knowledge.ts';
import { checkInput } from '../../safety/index.ts';
import type { DocumentHit, SearchDocuments } from '../tools/index.ts';
import { ContextTooLongError, type AssembledContext, type Thread } from './context-assembly.ts';

// Retrieval in the turn (issue 19): when a turn — or its conversation, from an earlier turn on — names
// collections, the saga searches them with the user's message, puts the best passages into the system
// turn in the grounded-answer format the model is trained on (inference/model, "grounded answer"):
//
//   Use these sources to answer. Cite them like [1].
//   [1] <passage>
//   [2] <passage>
//
// and records which passages (chunk and document ids, scores) in GenerationRequested.retrieval, so the
// audit shows the sources an answer used and Message.citations resolves its `[n]` markers.
//
// Who may be searched is decided here, not by the model or the client: the conversation's tenant and
// owner, with a plain user's view (shared documents of the tenant and the owner's own private ones;
// an admin's wider view never widens what goes into a prompt). The search itself is composition's
// (bin/ hands in knowledge/'s hybrid search), so inference/ does not import knowledge/.
//
// Kept apart from context-assembly.ts on purpose: the sources are one more block of the system turn,
// added like the user's memories (memory-context.ts), so the rest of context assembly is untouched.

export const SOURCES_HEADER = 'Use these sources to answer. Cite them like [1].';

// The same search the search_documents tool runs (inference/tools/registry.ts).
export type RetrievedPassage = DocumentHit;
export type { SearchDocuments };

export type Retrieved = { setting: RetrievalSetting; passages: RetrievedPassage[]; error?: string; withheld?: { chunkId: string; documentId: string; category: string }[] };

/** The category a passage is blocked for (prompt injection), or null: passages are screened like tool results. */
export type ScreenPassage = (text: string) => Promise<string | null>;

// The input cascade's prompt-injection verdict on a passage (the check tool results get, tool-round.ts).
// Only a detection withholds it: a stage that failed under load (a fail-closed, unverified block) does
// not, or every source of every turn would vanish while the machine is busy; the rules always run.
export const screenPassage: ScreenPassage = async (text) => {
  const check = await checkInput(text);
  const blocked = check.categories.some((c) => c.category === 'prompt_injection' && c.blocked) && !check.failClosed.includes('prompt_injection');
  return blocked ? 'prompt_injection' : null;
};

/** One line per passage: the format has no room for line breaks inside a source. */
export const passageLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

// A passage as a source: its text, and the number it had when recorded (default: its place in the list).
export type Source = { text: string; index?: number };

export function renderSources(passages: readonly Source[]): string {
  return [SOURCES_HEADER, ...passages.map((p, i) => `[${p.index ?? i + 1}] ${passageLine(p.text)}`)].join('\n');
}

/** The system turn with the sources after what it already holds (system prompt, memories). */
export function withSources(thread: Thread, passages: readonly Source[]): Thread {
  if (passages.length === 0) return thread;
  const block = renderSources(passages);
  return { ...thread, systemPrompt: thread.systemPrompt ? `${thread.systemPrompt}\n\n${block}` : block };
}

// The retrieval setting a message runs under: its own, or the last one an earlier message of the
// conversation named (in log order, up to this message); `collections: []` means off.
export function retrievalSettingOf(history: readonly RecordedEvent[], messageId: string): RetrievalSetting | null {
  let setting: RetrievalSetting | null = null;
  for (const e of history) {
    if (e.type !== 'MessageSubmitted') continue;
    if (e.data.retrieval) setting = e.data.retrieval;
    if (e.data.messageId === messageId) break;
  }
  return setting && setting.collections.length > 0 ? setting : null;
}

// Starts the searches of a burst's messages together (each is awaited when its turn is assembled). A
// failed search does not fail the turn: it is answered without sources, and the record says why.
// A passage is a document's text, written by anyone in the tenant: like a tool's result it goes
// through the prompt-injection check, and one that fails is kept out and recorded as withheld.
export function startRetrieval(
  search: SearchDocuments | undefined,
  asks: readonly { generationId: string; tenantId: string; ownerId: string; query: string; setting: RetrievalSetting | null }[],
  screen?: ScreenPassage,
): Map<string, Promise<Retrieved>> {
  const out = new Map<string, Promise<Retrieved>>();
  if (!search) return out;
  for (const a of asks) {
    if (!a.setting) continue;
    const setting = a.setting;
    out.set(a.generationId, search({ tenantId: a.tenantId, ownerId: a.ownerId, collections: setting.collections, query: a.query, topK: setting.topK })
      .then(async (found) => {
        const passages = found.slice(0, setting.topK);
        const verdicts = screen ? await Promise.all(passages.map((p) => screen(p.text))) : passages.map(() => null);
        const withheld = passages.flatMap((p, i) => (verdicts[i] ? [{ chunkId: p.chunkId, documentId: p.documentId, category: verdicts[i]! }] : []));
        return { setting, passages: passages.filter((_, i) => !verdicts[i]), ...(withheld.length ? { withheld } : {}) };
      })
      .catch((e: unknown) => ({ setting, passages: [], error: `search failed: ${(e as Error)?.message ?? String(e)}`.slice(0, 500) })));
  }
  return out;
}

export function retrievalRecord(r: Retrieved, used: readonly RetrievedPassage[]): RetrievalRecord {
  const sources: RetrievedSource[] = used.map((p, i) => ({
    index: i + 1, chunkId: p.chunkId, documentId: p.documentId, collection: p.collection, score: p.score, textRank: p.textRank, vectorRank: p.vectorRank,
  }));
  return {
    collections: [...r.setting.collections], topK: r.setting.topK, sources, status: r.error ? 'failed' : 'ok',
    ...(r.error ? { error: r.error } : {}), ...(r.withheld ? { withheld: r.withheld } : {}),
  };
}

// The context with as many of the passages as fit: `assemble` is context assembly with these sources
// in the system turn (system-turn.ts) and the token budget. Older turns give way first, as they do for
// a long message; only when the message alone does not fit with its sources are the weakest passages
// left out (down to none).
// Generic in the context type, so a richer assembly (a summary's fields) passes through unchanged.
export function assembleWithSources<C extends AssembledContext>(
  retrieved: Retrieved | undefined, assemble: (sources: readonly Source[]) => C,
): { context: C; retrieval?: RetrievalRecord } {
  if (!retrieved) return { context: assemble([]) };
  for (let n = retrieved.passages.length; ; n--) {
    const used = retrieved.passages.slice(0, n);
    try {
      return { context: assemble(used), retrieval: retrievalRecord(retrieved, used) };
    } catch (error) {
      if (!(error instanceof ContextTooLongError) || n === 0) throw error;
    }
  }
}

/** The text of recorded passages by chunk id, within a tenant (the documents read model); absent: removed since. */
export type PassageLookup = (tenantId: string, chunkIds: readonly string[]) => Promise<Map<string, string>>;

// The sources a request recorded, read again for a later prompt of the same turn (a continuation
// after tool calls shows the model the same system turn). A passage removed since is left out; the
// others keep their numbers, so the record still says what [n] is.
export async function recordedSources(lookup: PassageLookup | undefined, tenantId: string, record: RetrievalRecord | undefined | null): Promise<Source[]> {
  if (!lookup || !record || record.sources.length === 0) return [];
  const texts = await lookup(tenantId, record.sources.map((s) => s.chunkId));
  return record.sources.flatMap((s) => (texts.has(s.chunkId) ? [{ index: s.index, text: texts.get(s.chunkId)! }] : []));
}
