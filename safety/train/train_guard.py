#!/usr/bin/python3
"""Trains Parley's tiny test guard model: a small Llama-family decoder that reads a Llama Guard
3-style prompt and answers "safe" or "unsafe\\nS<n>", exported like the chat model (ONNX, tokenizer,
chat template) so Parley's engine serves it. It exists to test the LLM-judge stage end to end
(SAFETY_GUARD_MODEL_DIR); it is not a moderation model. Reuses inference/model/train.py's
tokenizer, model, collate and export (imported, not copied); that file is not changed.

    node --import tsx safety/train/guard-data.ts /tmp/guard.jsonl
    nice -n 10 /usr/bin/python3 safety/train/train_guard.py --data /tmp/guard.jsonl --out safety/models/guard-tiny
"""
import argparse, importlib.util, json, os, random, sys, time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('parley_train', os.path.join(HERE, '..', '..', 'inference', 'model', 'train.py'))
T = importlib.util.module_from_spec(spec)
spec.loader.exec_module(T)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=16)
    ap.add_argument('--steps', type=int, default=300)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--vocab-size', type=int, default=768)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    rows = [json.loads(l) for l in open(a.data)]
    convs = [[{'role': 'user', 'content': r['prompt']}, {'role': 'assistant', 'content': r['answer']}] for r in rows]
    t0 = time.time()
    vocab, merges = T.train_bpe([m['role'] + '\n' + m['content'] + '\n' for cv in convs[:3000] for m in cv], a.vocab_size)
    tok = T.BPETokenizer(vocab, merges)
    data = [T.encode_conversation(tok, cv) for cv in convs]
    print(f'[guard] {len(data)} rows, vocab {len(vocab)}, mean {sum(len(d[0]) for d in data) / len(data):.0f} tokens ({time.time() - t0:.0f}s)', file=sys.stderr)
    c = T.Cfg(vocab=len(vocab), hidden=64, layers=2, heads=2, kv_heads=1, head_dim=32, intermediate=128,
              max_pos=1024, rope_theta=10000.0, eps=1e-5)
    m = T.Llama(c)
    T.init_weights(m, 0.02, a.seed)
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3, weight_decay=0.01)
    gen = T.batches(data, a.batch, random.Random(a.seed + 1))
    m.train()
    bar = T.Bar(a.steps, 'guard')
    ema = None
    for step in range(a.steps):
        x, y, am = T.collate(next(gen))
        h, _ = m.hidden_states(x, am, T.position_ids_for(am), None)
        sel = y.view(-1) != -100
        loss = F.cross_entropy(torch.matmul(h.reshape(-1, c.hidden)[sel], m.embed_tokens.weight.t()), y.view(-1)[sel])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        bar.update(1, f'loss {ema:.4f}')
    bar.close()
    m.eval()
    ok = 0
    sample = rows[:: max(1, len(rows) // 100)][:100]
    for r in sample:
        ids = tok.encode(T.render([{'role': 'user', 'content': r['prompt']}], add_generation_prompt=True))
        ok += tok.decode(T.greedy(m, c, ids, 8)).strip() == r['answer']
    print(f'[guard] greedy exact answers on {len(sample)} training rows: {ok}', file=sys.stderr)
    extra = {'parley': {'name': 'parley-guard-tiny', 'purpose': 'test guard for the LLM-judge stage', 'steps': a.steps, 'final_loss': round(ema, 4), 'train_exact': f'{ok}/{len(sample)}'}}
    check = [tok.encode(T.render([{'role': 'user', 'content': r['prompt']}], add_generation_prompt=True)) for r in rows[:3]] + [[T.BOS_ID]]
    T.export(m, c, vocab, merges, a.out, 14, extra, check)


main()
