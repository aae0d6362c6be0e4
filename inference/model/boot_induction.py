#!/usr/bin/python3
"""Stage 5a: grow the attention heads that copy (induction heads) on random-token echo, before the skills.

Each example is a user turn `Repeat exactly: <8-40 random word-like tokens>` and the assistant's copy;
only the copy carries a loss. Random tokens cannot be memorised, so only heads that find the earlier
occurrence of the current token and copy its successor lower it. Stage 4's text echo (made-up words
from 20 syllables, 45% of a 700-step mix) never grew them; this does within ~250 steps (loss 7.4 ->
1.4, next-token accuracy on the copy 84% at step 310, from the stage-4 weights) — at the price of
forgetting the chat skills, which stage 5b (train.py --resume-from <this> --induct-share 0.2) relearns.

    /usr/bin/python3 inference/model/boot_induction.py <checkpoint.pt> <steps> <batch> <lr> <threads> <seed> <out.pt>
    (the shipped run: parley-tiny-v2-stage4.pt 320 32 2e-3 2 7 phaseA.pt; constant learning rate)
    An optional 8th argument names the model folder whose tokenizer.json to use (default: parley-tiny/;
    train-recipe.py passes the tokenizer of the chain it replays).
"""
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train as T  # noqa: E402


def main() -> None:
    init, steps, bs, lr, threads, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
    torch.set_num_threads(threads)
    tok_dir = sys.argv[8] if len(sys.argv) > 8 else os.path.join(HERE, "parley-tiny")
    vocab, merges = T.read_tokenizer(os.path.join(tok_dir, "tokenizer.json"))
    tok = T.BPETokenizer(vocab, merges)
    c = T.Cfg(vocab=len(vocab), hidden=192, layers=4, heads=6, kv_heads=2, head_dim=32, intermediate=512, max_pos=2048,
              rope_theta=10000.0, eps=1e-5)
    m = T.Llama(c)
    T.init_weights(m, 0.02, 1234)
    m.load_state_dict(torch.load(init))
    inv = {i: s for s, i in vocab.items()}
    pool = [i for i in range(259, len(vocab)) if inv[i].lstrip("\u0120").isalnum()]  # word-like merges
    rng = random.Random(seed)
    pre = tok.encode("<|im_start|>user\nRepeat exactly: ")
    mid = tok.encode("<|im_end|>\n<|im_start|>assistant\n")

    def example():
        n = rng.randint(8, 40)
        s = [rng.choice(pool) for _ in range(n)]
        return pre + s + mid + s + [T.EOS_ID], [0] * (len(pre) + n + len(mid)) + [1] * (n + 1)

    opt = torch.optim.AdamW(m.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    m.train()
    t0, ema = time.time(), None
    for step in range(steps):
        x, y, am = T.collate([example() for _ in range(bs)])
        h, _ = m.hidden_states(x, am, T.position_ids_for(am), None)
        sel = y.view(-1) != -100
        logits = torch.matmul(h.reshape(-1, c.hidden)[sel], m.embed_tokens.weight.t())
        loss = F.cross_entropy(logits, y.view(-1)[sel])
        acc = (logits.argmax(-1) == y.view(-1)[sel]).float().mean().item()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.9 * ema + 0.1 * loss.item()
        if step % 10 == 0:
            print(f"{step} {time.time() - t0:.0f}s loss {ema:.3f} acc {acc:.3f}", flush=True)
    torch.save(m.state_dict(), out)


if __name__ == "__main__":
    main()
