import { createClient } from 'graphql-sse';

export type Chunk = { index: number; delta: string; done: boolean; finishReason: string | null; attempt: number; reset: boolean; category: string | null; error: string | null; usage: { promptTokens: number; completionTokens: number } | null; sampledAt?: number | null; position?: string | null };

const FIELDS = 'index delta done finishReason attempt reset category error sampledAt position usage { promptTokens completionTokens }';
const stream = (fields: string) => `subscription($id: ID!, $after: Int, $attempt: Int) { generationStream(id: $id, afterIndex: $after, attempt: $attempt) { ${fields} } }`;

// Subscribes with the official graphql-sse client; `stopAfter` lets a test drop the connection mid-stream.
export async function streamChunks(
  url: string, token: string, id: string,
  opts: {
    afterIndex?: number; attempt?: number; singleConnection?: boolean; stopAfter?: (chunks: Chunk[]) => boolean; onChunk?: (c: Chunk, at: number) => void;
    /** the chunk fields to select (bench:pipeline asks only what older servers also have) */
    fields?: string;
  } = {},
): Promise<Chunk[]> {
  const client = createClient({
    url: `${url}/graphql/stream`,
    headers: { authorization: `Bearer ${token}` },
    singleConnection: opts.singleConnection ?? false,
    retryAttempts: 0,
  });
  const chunks: Chunk[] = [];
  try {
    const it = client.iterate<{ generationStream: Chunk }>({ query: stream(opts.fields ?? FIELDS), variables: { id, after: opts.afterIndex ?? null, attempt: opts.attempt ?? null } });
    for await (const result of it) {
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      const chunk = result.data!.generationStream;
      chunks.push(chunk);
      opts.onChunk?.(chunk, Date.now());
      if (chunk.done || opts.stopAfter?.(chunks)) break;
    }
  } finally {
    client.dispose();
  }
  return chunks;
}

export const textOf = (chunks: Chunk[]) => chunks.reduce((text, c) => (c.reset ? c.delta : text + c.delta), '');
