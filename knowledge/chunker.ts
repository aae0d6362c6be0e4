import { Tokenizer } from '@huggingface/tokenizers';
import { readEmbeddingModel } from '../inference/embeddings/index.ts';

// Documents are cut into passages by tokens of the embedding model (so each passage fits its
// window), with an overlap so a sentence cut at a boundary is whole in one of the two neighbours.
// Cuts fall between words (whitespace), never inside one; a single word longer than a passage is
// a passage of its own (the embedder truncates it).

export type ChunkOptions = { maxTokens: number; overlapTokens: number };
export type Chunk = { ord: number; text: string; tokens: number };

export type Chunker = (text: string) => Chunk[];

/** A chunker counting with the embedding model's own tokenizer (special tokens excluded). */
export function createChunker(modelDir: string, opts?: Partial<ChunkOptions>): Chunker {
  const files = readEmbeddingModel(modelDir);
  const tokenizer = new Tokenizer(files.tokenizerJson as object, files.tokenizerConfig);
  // Leave room for [CLS] and [SEP].
  const maxTokens = opts?.maxTokens ?? Math.min(100, files.maxTokens - 2);
  const overlapTokens = opts?.overlapTokens ?? Math.floor(maxTokens / 5);
  return (text) => chunkWords(text, (w) => tokenizer.encode(w, { add_special_tokens: false }).ids.length, { maxTokens, overlapTokens });
}

export function chunkWords(text: string, countTokens: (word: string) => number, { maxTokens, overlapTokens }: ChunkOptions): Chunk[] {
  const words = text.split(/\s+/).filter(Boolean);
  const sizes = words.map(countTokens);
  const chunks: Chunk[] = [];
  let start = 0;
  while (start < words.length) {
    let end = start;
    let tokens = 0;
    while (end < words.length && (end === start || tokens + sizes[end]! <= maxTokens)) tokens += sizes[end++]!;
    chunks.push({ ord: chunks.length, text: words.slice(start, end).join(' '), tokens });
    if (end >= words.length) break;
    // Step back over the last words until the overlap is covered, but always move forward.
    let back = end;
    let overlap = 0;
    while (back > start + 1 && overlap + sizes[back - 1]! <= overlapTokens) overlap += sizes[--back]!;
    start = back;
  }
  return chunks;
}
