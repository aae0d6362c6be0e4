"""Train Parley's sentence-embedding model (a small BERT bi-encoder) and export it.

  nice -n 10 /usr/bin/python3 inference/embeddings/train/train.py [--minutes 12] [--out DIR]

Contrastive training (in-batch negatives, symmetric InfoNCE) on the generated pairs of pairs.py;
mean pooling over the attention mask, L2-normalised. The export is the Hugging Face Optimum
feature-extraction layout that transformers.js loads: config.json (model_type "bert"),
tokenizer.json (WordPiece, BertNormalizer, BertPreTokenizer, [CLS] … [SEP]), tokenizer_config.json
and onnx/model.onnx with inputs input_ids / attention_mask / token_type_ids and output
last_hidden_state. No external library beyond torch and onnx.
"""
import argparse, json, math, os, random, time, unicodedata
from collections import Counter

import torch
import torch.nn as nn
import torch.nn.functional as F

import pairs as gen

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_LEN = 128


# ---------- tokenizer (mirrors HF BertNormalizer + BertPreTokenizer + WordPiece) ----------

def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def normalize(text):
    text = "".join(" " if ch.isspace() else ch for ch in text if not (ord(ch) == 0 or ord(ch) == 0xFFFD or unicodedata.category(ch) in ("Cc", "Cf") and not ch.isspace()))
    text = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")


def pre_tokenize(text):
    words = []
    for w in normalize(text).split():
        cur = ""
        for ch in w:
            if is_punct(ch):
                if cur:
                    words.append(cur)
                    cur = ""
                words.append(ch)
            else:
                cur += ch
        if cur:
            words.append(cur)
    return words


def build_vocab(texts, size):
    words = Counter(w for t in texts for w in pre_tokenize(t))
    chars = sorted({c for w in words for c in w} | set("abcdefghijklmnopqrstuvwxyz0123456789.,?!'-:;()\"/&%$"))
    vocab = list(SPECIALS) + chars + ["##" + c for c in chars]
    pieces = Counter()
    for w, c in words.items():
        for n in (2, 3, 4):
            for i in range(1, len(w) - n + 1):
                pieces["##" + w[i:i + n]] += c
            if len(w) > n:
                pieces[w[:n]] += c
    budget = size - len(vocab)
    whole = [w for w, c in words.most_common() if c >= 2 and len(w) > 1][: budget * 2 // 3]
    seen = set(vocab)
    for w in whole:
        if w not in seen:
            vocab.append(w); seen.add(w)
    for p, _ in pieces.most_common():
        if len(vocab) >= size:
            break
        if p not in seen:
            vocab.append(p); seen.add(p)
    return vocab


class WordPiece:
    def __init__(self, vocab):
        self.vocab = {t: i for i, t in enumerate(vocab)}

    def word(self, w):
        if len(w) > 100:
            return [self.vocab["[UNK]"]]
        out, start = [], 0
        while start < len(w):
            end, cur = len(w), None
            while start < end:
                piece = w[start:end] if start == 0 else "##" + w[start:end]
                if piece in self.vocab:
                    cur = self.vocab[piece]; break
                end -= 1
            if cur is None:
                return [self.vocab["[UNK]"]]
            out.append(cur); start = end
        return out

    def encode(self, text):
        ids = [self.vocab["[CLS]"]]
        for w in pre_tokenize(text):
            ids.extend(self.word(w))
        return ids[: MAX_LEN - 1] + [self.vocab["[SEP]"]]


def tokenizer_json(vocab):
    def special(tok):
        return {"id": vocab.index(tok), "content": tok, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
    cls, sep = vocab.index("[CLS]"), vocab.index("[SEP]")
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(t) for t in SPECIALS],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [cls], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [sep], "tokens": ["[SEP]"]}},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                  "vocab": {t: i for i, t in enumerate(vocab)}},
    }


# ---------- model: a BERT encoder written out so the ONNX graph is plain ops ----------

class Layer(nn.Module):
    def __init__(self, h, heads, ff):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(h, 3 * h)
        self.o = nn.Linear(h, h)
        self.ln1 = nn.LayerNorm(h, eps=1e-12)
        self.ff1 = nn.Linear(h, ff)
        self.ff2 = nn.Linear(ff, h)
        self.ln2 = nn.LayerNorm(h, eps=1e-12)

    def forward(self, x, bias):
        b, t, h = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(h // self.heads) + bias
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, h)
        x = self.ln1(x + self.o(y))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x))))


class Encoder(nn.Module):
    def __init__(self, vocab, h=128, layers=2, heads=4, ff=512):
        super().__init__()
        self.word = nn.Embedding(vocab, h)
        self.pos = nn.Embedding(MAX_LEN, h)
        self.types = nn.Embedding(2, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.layers = nn.ModuleList(Layer(h, heads, ff) for _ in range(layers))

    def forward(self, input_ids, attention_mask, token_type_ids):
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.ln(self.word(input_ids) + self.pos(pos) + self.types(token_type_ids))
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        return x


def embed(model, batch):
    ids, mask = batch
    hidden = model(ids, mask, torch.zeros_like(ids))
    m = mask.unsqueeze(-1).float()
    return F.normalize((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)


def collate(tok, texts):
    enc = [tok.encode(t) for t in texts]
    n = max(len(e) for e in enc)
    ids = torch.zeros(len(enc), n, dtype=torch.long)
    mask = torch.zeros(len(enc), n, dtype=torch.long)
    for i, e in enumerate(enc):
        ids[i, : len(e)] = torch.tensor(e)
        mask[i, : len(e)] = 1
    return ids, mask


def recall_at(model, tok, groups, k=5):
    """Each group's first query against every group's first statement (held-out names)."""
    model.eval()
    passages = [s[0] for s, q in groups if q]
    queries = [q[0] for s, q in groups if q]
    with torch.no_grad():
        P = torch.cat([embed(model, collate(tok, passages[i:i + 256])) for i in range(0, len(passages), 256)])
        Q = torch.cat([embed(model, collate(tok, queries[i:i + 256])) for i in range(0, len(queries), 256)])
    top = (Q @ P.T).topk(k, dim=1).indices
    right = top == torch.arange(len(queries)).unsqueeze(1)
    model.train()
    return round(right.any(1).float().mean().item(), 4), round(right[:, 0].float().mean().item(), 4)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "parley-embed"))
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    torch.manual_seed(0)
    rng = random.Random(1)
    torch.set_num_threads(2)

    train_groups, eval_groups = gen.build()
    texts = [t for s, q in train_groups for t in s + q]
    vocab = build_vocab(texts, 4096)
    tok = WordPiece(vocab)
    model = Encoder(len(vocab))
    print(f"vocab {len(vocab)}, params {sum(p.numel() for p in model.parameters()):,}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    scale = 20.0  # 1 / temperature 0.05
    deadline = time.time() + args.minutes * 60
    step, epoch = 0, 0
    print(f"eval recall@5, @1 before: {recall_at(model, tok, eval_groups)}", flush=True)
    while time.time() < deadline:
        epoch += 1
        data = gen.pairs_from(train_groups, rng)
        rng.shuffle(data)
        for i in range(0, len(data) - args.batch, args.batch):
            if time.time() >= deadline:
                break
            chunk = data[i:i + args.batch]
            a = embed(model, collate(tok, [x for x, _ in chunk]))
            b = embed(model, collate(tok, [y for _, y in chunk]))
            logits = a @ b.T * scale
            target = torch.arange(len(chunk))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            opt.zero_grad(); loss.backward(); opt.step()
            step += 1
            if step % 100 == 0:
                print(f"epoch {epoch} step {step} loss {loss.item():.4f}", flush=True)
            if step % 500 == 0:
                print(f"eval recall@5, @1: {recall_at(model, tok, eval_groups)}", flush=True)
    final = recall_at(model, tok, eval_groups)
    print(f"final: steps {step}, eval recall@5, @1 {final}", flush=True)
    export(model, vocab, args.out, {"steps": step, "eval_recall_at_5": final[0], "eval_recall_at_1": final[1], "pairs_per_epoch": len(gen.pairs_from(train_groups, rng))})


def export(model, vocab, out, stats):
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    model.eval()
    h = model.word.embedding_dim
    config = {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(vocab), "hidden_size": h,
        "num_hidden_layers": len(model.layers), "num_attention_heads": model.layers[0].heads,
        "intermediate_size": model.layers[0].ff1.out_features, "hidden_act": "gelu",
        "max_position_embeddings": MAX_LEN, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
        "pad_token_id": 0, "parley_training": stats,
    }
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    json.dump(tokenizer_json(vocab), open(os.path.join(out, "tokenizer.json"), "w"), ensure_ascii=False)
    json.dump({"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": MAX_LEN,
               "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]"},
              open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)
    ids = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 3, 0, 0]])
    mask = (ids != 0).long()
    torch.onnx.export(model, (ids, mask, torch.zeros_like(ids)), os.path.join(out, "onnx", "model.onnx"),
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                      dynamic_axes={n: {0: "batch_size", 1: "sequence_length"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
                      opset_version=14, do_constant_folding=True)
    print("exported to", os.path.abspath(out), flush=True)


if __name__ == "__main__":
    main()
