"""Builds safety/data/written_requests.jsonl from the batches written in round 9 (issue 16).

Eight Claude-based helper agents each wrote ~300 chat requests for a brief of categories
(`written_requests_guide.md`; briefs in safety/data/SOURCES.md): harmful requests, each a different
intent, in the varied forms chat users type, and benign neighbours, labelled with Parley's
categories and written in en, fr, es, de, it, pt. Lines whose text (normalised) is a line of a
measured-only set are left out, so those sets stay unseen: the everyday sets, the round-8 probes,
the shipping gate's sets.

    python3 safety/data/import_written.py write_*.jsonl

Rows: {"text", "labels", "lang", "group": "written/<id>"}; a group holds one request in all its
languages, so the held-out split keeps its translations together.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LANGS = ('en', 'fr', 'es', 'de', 'it', 'pt')
CATEGORIES = {'harassment', 'hate', 'sexual', 'dangerous', 'self_harm', 'fraud_scams', 'privacy', 'cyber',
              'weapons', 'violent_extremism', 'misinformation'}


def norm(s):
    return re.sub(r'[\W_]+', ' ', s.lower()).strip()


def measured_lines():
    out = set()
    for name in ('everyday_eval.jsonl', 'everyday_eval_2.jsonl'):
        out.update(norm(json.loads(l)['text']) for l in open(os.path.join(HERE, name), encoding='utf8') if l.strip())
    for name in ('probes_session9.json', 'ship_gate.json'):
        for v in json.load(open(os.path.join(HERE, name), encoding='utf8')).values():
            if isinstance(v, list):
                out.update(norm(x) for x in v if isinstance(x, str))
    return out


def main():
    measured = measured_lines()
    rows, dropped, bad, seen = [], 0, 0, set()
    for f in sys.argv[1:]:
        for line in open(f, encoding='utf8'):
            if not line.strip():
                continue
            r = json.loads(line)
            labels = r.get('labels')
            texts = [r.get(lang) for lang in LANGS]
            if not isinstance(labels, list) or any(c not in CATEGORIES for c in labels) or not all(isinstance(t, str) and t.strip() for t in texts):
                bad += 1
                continue
            if any(norm(t) in measured for t in texts) or norm(r['en']) in seen:
                dropped += 1
                continue
            seen.add(norm(r['en']))
            for lang, text in zip(LANGS, texts):
                rows.append({'text': text.strip(), 'labels': labels, 'lang': lang, 'group': f"written/{r['id']}"})
    out = os.path.join(HERE, 'written_requests.jsonl')
    with open(out, 'w', encoding='utf8') as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')
    en = [r for r in rows if r['lang'] == 'en']
    print(f'{len(en)} requests ({sum(1 for r in en if r["labels"])} harmful), {dropped} left out (a measured set\'s line or a repeat), '
          f'{bad} malformed; {len(rows)} rows → {out}')


if __name__ == '__main__':
    main()
