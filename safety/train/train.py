#!/usr/bin/python3
"""Trains Parley's moderation model from features written by safety/train/train.ts and exports it
to ONNX. Run through `npm run safety:train` (which generates the data and computes the features);
this file only sees hashed feature ids and labels.

Model: mean of hashed n-gram embeddings (a fastText-style bag) -> 64 ReLU -> one logit per
category, then per-category Platt scaling fitted on a validation split so the scores are
calibrated probabilities. Seeded; single-threaded for reproducibility.

ONNX: input `ids` int64 [batch, n] (0 = padding), output `scores` float32 [batch, categories].
"""
import argparse, json, math, random, sys, time

import torch
import torch.nn as nn


class Bag(nn.Module):
    def __init__(self, buckets, dim, hidden, cats):
        super().__init__()
        self.emb = nn.Embedding(buckets, dim, padding_idx=0)
        # Zero: an n-gram never seen in training adds nothing, so text made of unseen n-grams
        # scores the prior (benign) instead of whatever random vectors would say.
        nn.init.zeros_(self.emb.weight)
        # hidden 0: a linear bag (fastText-style), no hidden layer.
        self.hidden = nn.Linear(dim, hidden) if hidden else None
        self.out = nn.Linear(hidden or dim, cats)
        # Platt scaling per category, fitted after training; identity until then.
        self.register_buffer('scale', torch.ones(cats))
        self.register_buffer('shift', torch.zeros(cats))

    def logits(self, ids):
        mask = (ids > 0).to(torch.float32).unsqueeze(-1)
        summed = (self.emb(ids) * mask).sum(1)
        count = mask.sum(1).clamp(min=1.0)
        mean = summed / count
        return self.out(torch.relu(self.hidden(mean)) if self.hidden is not None else mean)

    def forward(self, ids):
        return torch.sigmoid(self.logits(ids) * self.scale + self.shift)


def bar(done, total, start, extra=''):
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done / max(time.time() - start, 1e-9)
    sys.stderr.write(f'\r  [{"#" * filled}{"." * (width - filled)}] {done}/{total} {rate:.0f}/s {extra}   ')
    sys.stderr.flush()


def pad(rows):
    n = max(1, max(len(r['ids']) for r in rows))
    ids = torch.zeros((len(rows), n), dtype=torch.long)
    for i, r in enumerate(rows):
        if r['ids']:
            ids[i, : len(r['ids'])] = torch.tensor(r['ids'], dtype=torch.long)
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=16)
    ap.add_argument('--epochs', type=int, default=6)
    ap.add_argument('--dim', type=int, default=32)
    ap.add_argument('--hidden', type=int, default=64)
    ap.add_argument('--benign-fp', type=float, default=0.01)
    ap.add_argument('--min-threshold', type=float, default=0.5)
    ap.add_argument('--final', action='store_true')
    a = ap.parse_args()
    random.seed(a.seed)
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)

    meta = None
    rows = []
    with open(a.data) as f:
        for line in f:
            r = json.loads(line)
            if 'meta' in r:
                meta = r['meta']
            else:
                rows.append(r)
    cats = meta['categories']
    # --final: the shipped model also learns the held-out rows (its sibling, trained without them,
    # is the one measured); calibration and thresholds always come from the validation rows.
    train = [r for r in rows if r['split'] == 'train' or (a.final and r['split'] == 'test')]
    val = [r for r in rows if r['split'] == 'val']
    print(f'train.py: {len(train)} train rows, {len(val)} validation rows, {len(cats)} categories, {meta["buckets"]} buckets')

    y = lambda rs: torch.tensor([[1.0 if c in r['labels'] else 0.0 for c in cats] for r in rs])
    ytrain = y(train)
    pos = ytrain.sum(0)
    # Mild: most traffic is benign, and a model that flags whatever it has not seen is useless.
    pos_weight = ((len(train) - pos) / pos.clamp(min=1)).clamp(max=1.0)
    model = Bag(meta['buckets'], a.dim, a.hidden, len(cats))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    batch = 64
    steps = a.epochs * math.ceil(len(train) / batch)
    done = 0
    start = time.time()
    for epoch in range(a.epochs):
        order = list(range(len(train)))
        random.shuffle(order)
        total = 0.0
        for k in range(0, len(order), batch):
            idx = order[k : k + batch]
            rs = [train[i] for i in idx]
            # Feature dropout: the model must not lean on any single n-gram.
            rs = [{'ids': [t for t in r['ids'] if random.random() > 0.3] or r['ids']} for r in rs]
            ids = pad(rs)
            loss = loss_fn(model.logits(ids), ytrain[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                model.emb.weight[0].zero_()
            total += loss.item() * len(idx)
            done += 1
            if done % 10 == 0 or done == steps:
                bar(done, steps, start, f'epoch {epoch + 1}/{a.epochs} loss {total / min(len(order), k + batch):.4f}')
    sys.stderr.write('\n')

    # Platt scaling per category on the validation split.
    model.eval()
    with torch.no_grad():
        zval = torch.cat([model.logits(pad(val[k : k + 256])) for k in range(0, len(val), 256)])
    yval = y(val)
    scale = torch.ones(len(cats), requires_grad=True)
    shift = torch.zeros(len(cats), requires_grad=True)
    copt = torch.optim.LBFGS([scale, shift], lr=0.5, max_iter=200)
    bce = nn.BCEWithLogitsLoss()

    def closure():
        copt.zero_grad()
        l = bce(zval * scale + shift, yval) + 1e-3 * ((scale - 1) ** 2).sum()
        l.backward()
        return l

    copt.step(closure)
    with torch.no_grad():
        # A category with no validation positives keeps its raw scores.
        keep = yval.sum(0) > 0
        model.scale.copy_(torch.where(keep, scale.clamp(min=0.1), torch.ones_like(scale)))
        model.shift.copy_(torch.where(keep, shift, torch.zeros_like(shift)))
    print('calibration (scale, shift): ' + ', '.join(f'{c} {s:.2f},{b:.2f}' for c, s, b in zip(cats, model.scale.tolist(), model.shift.tolist())))

    # The probability at which a category's finding starts to count (MEDIUM on the cascade's
    # scale): the lowest that flags at most --benign-fp of the benign validation rows, and >= --min-threshold.
    # Validation intents are unseen in training, so this is set on look-alikes the model never saw.
    with torch.no_grad():
        pval = torch.sigmoid(zval * model.scale + model.shift)
    benign = yval.sum(1) == 0
    thresholds = {}
    for j, c in enumerate(cats):
        b = sorted(pval[benign, j].tolist(), reverse=True)
        allowed = int(a.benign_fp * len(b))
        t = b[allowed] + 1e-4 if allowed < len(b) else 0.5
        thresholds[c] = round(min(0.99, max(a.min_threshold, t)), 4)
    print('thresholds: ' + ', '.join(f'{c} {t}' for c, t in thresholds.items()))
    with open(a.out + '.thresholds.json', 'w') as f:
        json.dump(thresholds, f)

    example = pad([{'ids': [1, 2, 3]}, {'ids': [4, 5]}])
    torch.onnx.export(
        model, (example,), a.out, input_names=['ids'], output_names=['scores'],
        dynamic_axes={'ids': {0: 'batch', 1: 'features'}, 'scores': {0: 'batch'}}, opset_version=17,
    )
    print(f'wrote {a.out}')


main()
