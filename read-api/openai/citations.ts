import { answerSources, citationMarkers, citedIn, type Citation, type CitationReads } from '../knowledge/citations.ts';
import type { Call } from './intake.ts';

// An OpenAI answer's citations: its `[n]` markers resolved as GraphQL's Message.citations resolves
// them (read-api/knowledge/citations.ts, the one source of truth), written in the two shapes the
// OpenAI routes answer with:
//   - /v1/responses: the output_text part's `annotations`, OpenAI's `file_citation` (file_id is the
//     document id, filename its title, index the offset of the marker in the part's text);
//   - /v1/chat/completions: `parley_citations` on the message (OpenAI's chat has no document citation).
// An OpenAI turn's sources are its first generation's retrieval: a server-side tool round's
// continuation answers from the same system turn (answer-text.ts follows it). A document removed since is left out of the annotations
// (it has no title to name) and reads `status: "removed"` in parley_citations.
// Cost: an annotation list reads the generation's first event (and one passage query) only for a
// text with markers; parley_citations reads it for every answer of a turn that may retrieve (its
// presence says whether the turn retrieved), none for a new conversation without parley_retrieval.

export type FileCitation = { type: 'file_citation'; file_id: string; filename: string; index: number };
export type ParleyCitation = {
  index: number; document_id: string; chunk_id: string; collection: string; title: string | null; passage: string | null;
  score: number; status: 'available' | 'removed';
};

/** The sources of one generation's answer, read at most once however many texts ask (null: none recorded). */
export function answerCitations(reads: CitationReads, generationId: string) {
  let loaded: Promise<Citation[] | null> | null = null;
  const sources = () => (loaded ??= answerSources(reads, { id: generationId, role: 'assistant', content: '', continues: null }));
  return {
    /** file_citation annotations of a text shown as an output_text part; an answer that cites nothing reads nothing */
    annotations: async (text: string): Promise<FileCitation[]> => {
      const markers = citationMarkers(text);
      if (markers.length === 0) return [];
      const all = (await sources()) ?? [];
      return markers.flatMap(({ n, offset }) => all.filter((c) => c.index === n && c.status === 'AVAILABLE')
        .map((c) => ({ type: 'file_citation' as const, file_id: c.documentId, filename: c.title ?? '', index: offset })));
    },
    /** the cited sources, in order of first mention; null when the turn had no retrieval (the field is then left out) */
    parley: async (text: string): Promise<ParleyCitation[] | null> => {
      const all = await sources();
      return all && citedIn(text, all).map((c) => ({
        index: c.index, document_id: c.documentId, chunk_id: c.chunkId, collection: c.collection, title: c.title, passage: c.passage,
        score: c.score, status: c.status === 'AVAILABLE' ? 'available' : 'removed',
      }));
    },
  };
}

/** chat's `parley_citations` for an answer's text: null (no field) when the turn did not retrieve */
export async function chatCitations(call: Pick<Call, 'o' | 'generationId' | 'mayRetrieve'>, text: string): Promise<ParleyCitation[] | null> {
  return call.mayRetrieve ? answerCitations(call.o.services, call.generationId).parley(text) : null;
}
