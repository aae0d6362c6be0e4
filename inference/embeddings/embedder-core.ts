// The embedding computation itself (runs inside the worker thread): tokenize, pad a batch, run the
// encoder, mean-pool the last hidden state over the attention mask and L2-normalise — the same
// steps as transformers.js `pipeline('feature-extraction')` with { pooling: 'mean', normalize: true }.
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';
import { readEmbeddingModel, EmbeddingModelError, type EmbeddingModelFiles } from './model-dir.ts';

export interface EmbeddedBatch {
  /** one normalised vector per text, back to back: texts × dimensions floats */
  vectors: Float32Array;
  /** tokens per text, [CLS]/[SEP] included, after truncation */
  tokens: number[];
}

export class EmbedderCore {
  private constructor(
    readonly files: EmbeddingModelFiles,
    private readonly tokenizer: Tokenizer,
    private readonly session: ort.InferenceSession,
  ) {}

  static async create(dir: string, threads = 1): Promise<EmbedderCore> {
    const files = readEmbeddingModel(dir);
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(files.tokenizerJson as object, files.tokenizerConfig);
    } catch (e) {
      throw new EmbeddingModelError(`tokenizer.json is not supported (${(e as Error).message})`, dir);
    }
    const session = await ort.InferenceSession.create(files.onnxPath, { executionProviders: ['cpu'], intraOpNumThreads: threads });
    if (!session.inputNames.includes('input_ids') || !session.inputNames.includes('attention_mask')) {
      throw new EmbeddingModelError(`model.onnx inputs are ${session.inputNames.join(', ')}; need input_ids and attention_mask`, dir);
    }
    return new EmbedderCore(files, tokenizer, session);
  }

  /** Token count of one text as it would be embedded (special tokens included, truncated). */
  countTokens(text: string): number {
    return Math.min(this.tokenizer.encode(text, { add_special_tokens: true }).ids.length, this.files.maxTokens);
  }

  async embed(texts: string[]): Promise<EmbeddedBatch> {
    const encoded = texts.map((t) => this.truncate(this.tokenizer.encode(t, { add_special_tokens: true }).ids));
    const width = Math.max(1, ...encoded.map((e) => e.length));
    const n = texts.length;
    const ids = new BigInt64Array(n * width);
    const mask = new BigInt64Array(n * width);
    encoded.forEach((e, row) => e.forEach((id, col) => {
      ids[row * width + col] = BigInt(id);
      mask[row * width + col] = 1n;
    }));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [n, width]),
      attention_mask: new ort.Tensor('int64', mask, [n, width]),
    };
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(n * width), [n, width]);
    const out = await this.session.run(feeds);
    const hidden = (out.last_hidden_state ?? out[this.session.outputNames[0]]) as ort.Tensor;
    return { vectors: meanPoolNormalize(hidden.data as Float32Array, encoded.map((e) => e.length), width, hidden.dims[2] as number), tokens: encoded.map((e) => e.length) };
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /** Cut to maxTokens as transformers.js does (the reference we are checked against): the
   *  first maxTokens ids of the encoded text, so a truncated text loses its final [SEP]. */
  private truncate(ids: number[]): number[] {
    return ids.length <= this.files.maxTokens ? ids : ids.slice(0, this.files.maxTokens);
  }
}

function meanPoolNormalize(hidden: Float32Array, lengths: number[], width: number, dim: number): Float32Array {
  const out = new Float32Array(lengths.length * dim);
  lengths.forEach((len, row) => {
    const v = out.subarray(row * dim, (row + 1) * dim);
    for (let t = 0; t < len; t++) {
      const base = (row * width + t) * dim;
      for (let d = 0; d < dim; d++) v[d] += hidden[base + d];
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      v[d] /= Math.max(len, 1e-9);
      norm += v[d] * v[d];
    }
    norm = Math.max(Math.sqrt(norm), 1e-12);
    for (let d = 0; d < dim; d++) v[d] /= norm;
  });
  return out;
}
