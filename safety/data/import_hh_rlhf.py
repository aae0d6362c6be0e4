"""Builds safety/data/public/hh_rlhf_harmless.jsonl from Anthropic's hh-rlhf red-teaming data.

hh-rlhf (github.com/anthropics/hh-rlhf, MIT) `harmless-base/test.jsonl.gz` holds 2,312 conversations
in which crowdworkers tried to get harmful help from an assistant; the first human turn of each is a
chat opener written by a person, harmful or not. The data set has no harm labels, so each opener was
labelled with Parley's categories and translated into French, Spanish and German by Claude-based
helper agents following `hh_rlhf_labelling.md` (eight batches; the label files are the `--labels`
arguments). Openers labelled "?" (unsure) are left out, as are those that repeat a row of another
public set (normalised text), so that no held-out row of another set is trained on through this one.

    python3 safety/data/import_hh_rlhf.py --hh-rlhf <git dir of anthropics/hh-rlhf> --labels out_*.jsonl

Rows: {"text", "labels", "lang", "source": "hh_rlhf", "group": "hh_rlhf/<opener index>"}; the group
covers an opener in all its languages, so the held-out split keeps translations together.
"""
import argparse
import glob
import gzip
import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
COMMIT = '354e5c3'
CATEGORIES = {'harassment', 'hate', 'sexual', 'sexual_minors', 'dangerous', 'self_harm', 'fraud_scams',
              'privacy', 'cyber', 'weapons', 'violent_extremism', 'misinformation'}
LANGS = ('fr', 'es', 'de')


def norm(s):
    return re.sub(r'[^a-z0-9]+', ' ', s.lower()).strip()


def openers(git_dir):
    """First human turns of harmless-base/test.jsonl.gz, unique (case-insensitive), in file order."""
    raw = subprocess.run(['git', '--git-dir', git_dir, 'show', f'{COMMIT}:harmless-base/test.jsonl.gz'],
                         check=True, capture_output=True).stdout
    out, seen = [], set()
    for line in gzip.decompress(raw).decode('utf8').splitlines():
        m = re.match(r'\s*Human:(.*?)\n\nAssistant:', json.loads(line)['chosen'], re.S)
        if not m:
            continue
        q = m.group(1).strip()
        if q.lower() not in seen:
            seen.add(q.lower())
            out.append(q)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hh-rlhf', required=True)
    ap.add_argument('--labels', nargs='+', required=True)
    args = ap.parse_args()
    texts = openers(args.hh_rlhf)
    other = set()
    for f in glob.glob(os.path.join(HERE, 'public', '*.jsonl')):
        if not f.endswith('hh_rlhf_harmless.jsonl'):
            other.update(norm(json.loads(l)['text']) for l in open(f, encoding='utf8'))
    labelled = {}
    for f in args.labels:
        for line in open(f, encoding='utf8'):
            if line.strip():
                r = json.loads(line)
                labelled[r['id']] = r
    rows, unsure, dup, missing = [], 0, 0, 0
    for i, text in enumerate(texts):
        r = labelled.get(i)
        if r is None:
            missing += 1
            continue
        if norm(text) in other or len(text.split()) < 2:
            dup += 1
            continue
        labels = r['labels']
        if '?' in labels or any(c not in CATEGORIES for c in labels):
            unsure += 1
            continue
        group = f'hh_rlhf/{i}'
        rows.append({'text': text, 'labels': labels, 'lang': 'en', 'source': 'hh_rlhf', 'group': group})
        for lang in LANGS:
            if isinstance(r.get(lang), str) and r[lang].strip():
                rows.append({'text': r[lang].strip(), 'labels': labels, 'lang': lang, 'source': 'hh_rlhf', 'group': group})
    out = os.path.join(HERE, 'public', 'hh_rlhf_harmless.jsonl')
    with open(out, 'w', encoding='utf8') as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')
    en = [r for r in rows if r['lang'] == 'en']
    harmful = sum(1 for r in en if r['labels'])
    print(f'{len(texts)} openers: {len(en)} kept ({harmful} harmful, {len(en) - harmful} benign), '
          f'{unsure} unsure, {dup} repeat another set or are one word, {missing} unlabelled; {len(rows)} rows → {out}')


if __name__ == '__main__':
    main()
