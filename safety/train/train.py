#!/usr/bin/python3
"""Trains Parley's moderation model from features written by safety/train/train.ts and exports it
to ONNX. Run through `npm run safety:train` (which generates the data and computes the features);
this file only sees hashed feature ids and labels.

Model: mean of hashed n-gram embeddings (a fastText-style bag) -> 64 ReLU -> one logit per
category, then per-category Platt scaling fitted on a validation split so the scores are
calibrated probabilities. Seeded; single-threaded for reproducibility.

ONNX: input `ids` int64 [batch, n] (0 = padding), output `scores` float32 [batch, categories].

`--arch cnn` / `--arch cnn+bag` (round 4, a measured experiment, not the shipped recipe): a
character CNN over the UTF-8 bytes of the normalized text (the `bytes` field train.ts writes:
byte + 1, 0 = padding): byte embedding -> Conv1d of widths 3/5/7 ("same" padding, ReLU, padded
positions zeroed) -> max over time -> dropout -> hidden ReLU -> one logit per category; `cnn+bag`
concatenates the pooled CNN features with the n-gram bag's mean embedding. Same rows, split, loss,
calibration and threshold rule as the bag. ONNX inputs: `bytes` int64 [batch, n] (cnn) or `ids`
and `bytes` (cnn+bag); the input names are written to <out>.inputs.json for the model card.
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


class CharCNN(nn.Module):
    def __init__(self, cats, emb_dim, width, kernels, hidden, bag=None):
        super().__init__()
        self.emb = nn.Embedding(257, emb_dim, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(emb_dim, width, k, padding=k // 2) for k in kernels])
        self.drop = nn.Dropout(0.3)
        # cnn+bag: (buckets, dim) of an n-gram bag embedding, zero-initialised as in Bag.
        self.bag = None
        if bag:
            self.bag = nn.Embedding(bag[0], bag[1], padding_idx=0)
            nn.init.zeros_(self.bag.weight)
        pooled = width * len(kernels) + (bag[1] if bag else 0)
        self.hidden = nn.Linear(pooled, hidden)
        self.out = nn.Linear(hidden, cats)
        self.register_buffer('scale', torch.ones(cats))
        self.register_buffer('shift', torch.zeros(cats))

    def features(self, ids, bytes_):
        mask = (bytes_ > 0).to(torch.float32).unsqueeze(1)
        x = self.emb(bytes_).transpose(1, 2)
        # ReLU >= 0, so zeroing padded positions keeps them out of the max.
        parts = [(torch.relu(conv(x)) * mask).amax(2) for conv in self.convs]
        if self.bag is not None:
            m = (ids > 0).to(torch.float32).unsqueeze(-1)
            parts.append((self.bag(ids) * m).sum(1) / m.sum(1).clamp(min=1.0))
        return torch.cat(parts, 1)

    def logits2(self, ids, bytes_):
        return self.out(torch.relu(self.hidden(self.drop(self.features(ids, bytes_)))))


class CnnOnly(nn.Module):
    """ONNX wrapper of a CharCNN without the bag: one input, `bytes`."""
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, bytes_):
        return torch.sigmoid(self.m.logits2(None, bytes_) * self.m.scale + self.m.shift)


class CnnBag(nn.Module):
    """ONNX wrapper of a CharCNN with the bag: inputs `ids` and `bytes`."""
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, ids, bytes_):
        return torch.sigmoid(self.m.logits2(ids, bytes_) * self.m.scale + self.m.shift)


def bar(done, total, start, extra=''):
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done / max(time.time() - start, 1e-9)
    sys.stderr.write(f'\r  [{"#" * filled}{"." * (width - filled)}] {done}/{total} {rate:.0f}/s {extra}   ')
    sys.stderr.flush()


def pad(rows, key='ids'):
    n = max(1, max(len(r[key]) for r in rows))
    ids = torch.zeros((len(rows), n), dtype=torch.long)
    for i, r in enumerate(rows):
        if r[key]:
            ids[i, : len(r[key])] = torch.tensor(r[key], dtype=torch.long)
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=16)
    ap.add_argument('--epochs', type=int, default=6)
    ap.add_argument('--dim', type=int, default=32)
    ap.add_argument('--hidden', type=int, default=64)
    ap.add_argument('--benign-fp', type=float, default=0.002)
    ap.add_argument('--min-threshold', type=float, default=0.7)
    ap.add_argument('--final', action='store_true')
    ap.add_argument('--arch', choices=['bag', 'cnn', 'cnn+bag'], default='bag')
    ap.add_argument('--cnn-emb', type=int, default=32)
    ap.add_argument('--cnn-width', type=int, default=96, help='filters per kernel width')
    ap.add_argument('--cnn-kernels', default='3,5,7')
    ap.add_argument('--lr', type=float, default=3e-3)
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
    cnn = a.arch != 'bag'
    if cnn:
        kernels = [int(k) for k in a.cnn_kernels.split(',')]
        model = CharCNN(len(cats), a.cnn_emb, a.cnn_width, kernels, a.hidden, (meta['buckets'], a.dim) if a.arch == 'cnn+bag' else None)
        # The network's logits for a list of rows (dropout follows model.train()/eval()).
        logits = lambda rs: model.logits2(pad(rs) if a.arch == 'cnn+bag' else None, pad(rs, 'bytes'))
        print(f'train.py: arch {a.arch}, {sum(p.numel() for p in model.parameters())} parameters')
    else:
        model = Bag(meta['buckets'], a.dim, a.hidden, len(cats))
        logits = lambda rs: model.logits(pad(rs))
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    batch = 64
    steps = a.epochs * math.ceil(len(train) / batch)
    done = 0
    start = time.time()
    model.train()
    for epoch in range(a.epochs):
        order = list(range(len(train)))
        random.shuffle(order)
        batches = [order[k : k + batch] for k in range(0, len(order), batch)]
        if cnn:
            # Batches of similar byte length (less padding for the convolutions): sort chunks of
            # 50 batches by length, then shuffle the batches.
            batches = []
            for c in range(0, len(order), batch * 50):
                chunk = sorted(order[c : c + batch * 50], key=lambda i: len(train[i]['bytes']))
                batches += [chunk[k : k + batch] for k in range(0, len(chunk), batch)]
            random.shuffle(batches)
        total = 0.0
        seen = 0
        for idx in batches:
            rs = [train[i] for i in idx]
            # Feature dropout: the model must not lean on any single n-gram.
            rs = [{'ids': [t for t in r['ids'] if random.random() > 0.3] or r['ids'], 'bytes': r.get('bytes')} for r in rs]
            loss = loss_fn(logits(rs), ytrain[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                if cnn:
                    model.emb.weight[0].zero_()
                    if model.bag is not None:
                        model.bag.weight[0].zero_()
                else:
                    model.emb.weight[0].zero_()
            total += loss.item() * len(idx)
            seen += len(idx)
            done += 1
            if done % 10 == 0 or done == steps:
                bar(done, steps, start, f'epoch {epoch + 1}/{a.epochs} loss {total / seen:.4f}')
    sys.stderr.write('\n')

    # Platt scaling per category on the validation split.
    model.eval()
    with torch.no_grad():
        zval = torch.cat([logits(val[k : k + 256]) for k in range(0, len(val), 256)])
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
    example_bytes = pad([{'bytes': [105, 112, 117, 33, 98]}, {'bytes': [105, 33]}], 'bytes')
    if a.arch == 'bag':
        net, inputs, names = model, (example,), ['ids']
    elif a.arch == 'cnn':
        net, inputs, names = CnnOnly(model), (example_bytes,), ['bytes']
    else:
        net, inputs, names = CnnBag(model), (example, example_bytes), ['ids', 'bytes']
    net.eval()
    # Distinct names: the two inputs' lengths differ (onnxruntime assumes same-named dims are equal).
    axes = {n: {0: 'batch', 1: 'features' if n == 'ids' else 'length'} for n in names}
    axes['scores'] = {0: 'batch'}
    torch.onnx.export(net, inputs, a.out, input_names=names, output_names=['scores'], dynamic_axes=axes, opset_version=17)
    with open(a.out + '.inputs.json', 'w') as f:
        json.dump(names, f)
    print(f'wrote {a.out}')


main()
