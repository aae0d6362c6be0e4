#!/usr/bin/python3
"""Extracts the public red-team prompt sets used for training into safety/data/public/*.jsonl,
mapping their categories onto Parley's. Run once per source update, with a checkout of each:

    /usr/bin/python3 safety/data/import_public.py --catqa red-instruct/harmful_questions/catqa_english.json \
        --navirocker llm-red-teaming-dataset/prompts/redteam_master_dataset.csv

Rows whose source category has no Parley equivalent (financial advice, lobbying, adult humour,
jailbreak templates without a request, ...) are skipped. See safety/data/SOURCES.md.
"""
import argparse, csv, json, os

HERE = os.path.dirname(os.path.abspath(__file__))

CATQA = {
    'Drug:': 'dangerous', 'Weapon:': 'weapons', 'Human Trafficking:': 'dangerous', 'Cybercrime:': 'cyber',
    'Theft and Robbery:': 'dangerous', 'Content Sexual exploitation': 'sexual_minors', 'Online predation': 'sexual_minors',
    'Physical abuse': 'dangerous', 'Racial or ethnic hate': 'hate', 'Religious intolerance': 'hate',
    'Gender-based violence': 'dangerous', 'Cyberbullying': 'harassment', 'Terrorism and extremism': 'violent_extremism',
    'Malicious software designed to spread and damage computers': 'cyber', 'Trojans': 'cyber', 'Spyware': 'cyber',
    'Ransomware': 'cyber', 'Self-harm': 'self_harm', 'Assault and battery': 'dangerous',
    'Hazardous material handling': 'dangerous', 'Weapon making': 'weapons', 'Financial fraud': 'fraud_scams',
    'Market manipulation': 'fraud_scams', 'Employment scams': 'fraud_scams', 'Investment scams': 'fraud_scams',
    'Identity theft': 'fraud_scams', 'Phishing': 'fraud_scams', 'Scamming': 'fraud_scams', 'Counterfeiting': 'fraud_scams',
    'Pornography': 'sexual', 'Erotic text': 'sexual', 'Nude imagery': 'sexual', 'Sexually explicit dialogue': 'sexual',
    'Political misinformation': 'misinformation', 'Data theft': 'privacy', 'Surveillance': 'privacy', 'Doxxing': 'privacy',
    'Tracking and location monitoring': 'privacy',
}

NAVI = {
    ('harmful_content', 'hate_speech'): 'hate', ('harmful_content', 'harassment'): 'harassment',
    ('harmful_content', 'self_harm'): 'self_harm', ('harmful_content', 'violence'): 'dangerous',
    ('illegal_activities', 'drugs'): 'dangerous', ('illegal_activities', 'fraud'): 'fraud_scams',
    ('illegal_activities', 'hacking'): 'cyber', ('illegal_activities', 'weapons'): 'weapons',
    ('misinformation', 'conspiracy_theories'): 'misinformation', ('misinformation', 'medical_misinfo'): 'misinformation',
    ('misinformation', 'political_misinfo'): 'misinformation', ('privacy_violations', 'doxxing'): 'privacy',
    ('privacy_violations', 'personal_info'): 'privacy', ('privacy_violations', 'surveillance'): 'privacy',
    ('sexual_content', 'explicit_content'): 'sexual', ('sexual_content', 'minors'): 'sexual_minors',
    ('sexual_content', 'non_consensual'): 'sexual', ('manipulation', 'deception'): 'fraud_scams',
}


def write(name, rows):
    with open(os.path.join(HERE, 'public', name), 'w') as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    print(f'{name}: {len(rows)} rows')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--catqa', required=True)
    ap.add_argument('--navirocker', required=True)
    a = ap.parse_args()
    rows = []
    for area, subs in json.load(open(a.catqa)).items():
        for sub, qs in subs.items():
            if sub in CATQA:
                rows += [{'text': q, 'labels': [CATQA[sub]], 'source': 'catqa', 'group': f'catqa/{sub}'} for q in qs]
    write('catqa_english.jsonl', rows)
    rows = []
    for r in csv.DictReader(open(a.navirocker)):
        key = (r['category'], r['subcategory'])
        if key in NAVI and r['severity'] in ('high', 'medium'):
            rows.append({'text': r['prompt'], 'labels': [NAVI[key]], 'source': 'navirocker', 'group': f'navirocker/{r["prompt_id"]}'})
    write('navirocker_redteam.jsonl', rows)


main()
