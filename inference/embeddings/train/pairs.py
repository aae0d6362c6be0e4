"""Generated paraphrase and question→passage pairs for the sentence-embedding model.

Everything here is made up by this script (seeded): fictional entities with attributes, each fact
written several ways (statements, questions, keyword queries), plus generic request paraphrases.
Entity names are split into a training half and a held-out half so that the retrieval figure
(bench/results/retrieval.md) is measured on names the model never saw.
"""
import random

SYL = ["ka", "lo", "ri", "ven", "tor", "mi", "zar", "quin", "del", "bro", "sa", "nel", "pho", "tek",
       "ul", "mar", "gri", "so", "fen", "da", "vo", "lix", "ter", "ban", "cor", "ny", "ex", "ra", "pel", "hu"]
COLOURS = ["red", "blue", "green", "yellow", "black", "white", "orange", "purple", "grey", "silver"]
JOBS = ["teacher", "nurse", "pilot", "baker", "engineer", "lawyer", "farmer", "painter", "chemist", "librarian"]
HOBBIES = ["chess", "climbing", "cycling", "gardening", "knitting", "rowing", "singing", "fishing", "hiking", "pottery"]
PETS = ["cat", "dog", "parrot", "rabbit", "turtle", "hamster", "goldfish", "lizard"]
COUNTRIES = ["Norway", "Peru", "Kenya", "Japan", "Chile", "Canada", "Egypt", "Spain", "India", "Brazil", "Iceland", "Poland"]
FEATURES = ["waterproof casing", "solar charging", "voice control", "a touch screen", "wireless sync",
            "noise cancelling", "a steel frame", "night vision", "a backup battery", "fast charging"]
PRODUCTS = ["router", "blender", "drone", "lamp", "bicycle", "camera", "kettle", "speaker", "scanner", "heater"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def name(rng, parts=2):
    return "".join(rng.choice(SYL) for _ in range(parts)).capitalize()


def person_facts(rng, n):
    city = name(rng, 3)
    job, hobby, pet, col = rng.choice(JOBS), rng.choice(HOBBIES), rng.choice(PETS), rng.choice(COLOURS)
    return [
        ([f"{n} lives in {city}.", f"{n}'s home is in the city of {city}.", f"The city where {n} lives is {city}."],
         [f"Where does {n} live?", f"In which city is {n}'s home?", f"{n} home city"]),
        ([f"{n} works as a {job}.", f"{n} is a {job} by profession.", f"The job of {n} is {job}."],
         [f"What is {n}'s job?", f"What does {n} do for a living?", f"{n} profession"]),
        ([f"{n} enjoys {hobby} at the weekend.", f"{n}'s favourite hobby is {hobby}.", f"In free time {n} likes {hobby}."],
         [f"What hobby does {n} have?", f"What does {n} like to do for fun?", f"{n} hobby"]),
        ([f"{n} has a pet {pet}.", f"{n} owns a {pet}.", f"The pet of {n} is a {pet}."],
         [f"What pet does {n} own?", f"Which animal lives with {n}?", f"{n} pet"]),
        ([f"{n}'s favourite colour is {col}.", f"{n} likes the colour {col} best.", f"The colour {n} prefers is {col}."],
         [f"What is {n}'s favourite colour?", f"Which colour does {n} like most?", f"{n} favourite colour"]),
    ]


def product_facts(rng, n):
    kind, feat = rng.choice(PRODUCTS), rng.choice(FEATURES)
    price, weight, year = rng.randint(20, 990), rng.randint(1, 40), rng.randint(1990, 2025)
    return [
        ([f"The {n} {kind} costs {price} dollars.", f"The price of the {n} {kind} is {price} dollars.", f"You can buy the {n} {kind} for {price} dollars."],
         [f"How much does the {n} {kind} cost?", f"What is the price of the {n}?", f"{n} {kind} price"]),
        ([f"The {n} {kind} weighs {weight} kilograms.", f"The weight of the {n} is {weight} kg.", f"The {n} {kind} has a mass of {weight} kilograms."],
         [f"How heavy is the {n} {kind}?", f"What does the {n} weigh?", f"{n} weight"]),
        ([f"The {n} {kind} has {feat}.", f"The {n} comes with {feat}.", f"One feature of the {n} {kind} is {feat}."],
         [f"What feature does the {n} {kind} have?", f"What does the {n} come with?", f"{n} features"]),
        ([f"The {n} {kind} was released in {year}.", f"The {n} first went on sale in {year}.", f"{year} is the year the {n} {kind} launched."],
         [f"When was the {n} {kind} released?", f"In what year did the {n} launch?", f"{n} release year"]),
    ]


def place_facts(rng, n):
    country, river = rng.choice(COUNTRIES), name(rng, 2)
    pop, month = rng.randint(2, 900) * 1000, rng.choice(MONTHS)
    return [
        ([f"{n} is a town in {country}.", f"The town of {n} lies in {country}.", f"{n} is located in {country}."],
         [f"Which country is {n} in?", f"Where is the town of {n}?", f"{n} country"]),
        ([f"{n} has a population of {pop} people.", f"About {pop} people live in {n}.", f"The number of inhabitants of {n} is {pop}."],
         [f"How many people live in {n}?", f"What is the population of {n}?", f"{n} population"]),
        ([f"The river {river} flows through {n}.", f"{n} is built on the {river} river.", f"The {river} runs through the town of {n}."],
         [f"Which river flows through {n}?", f"What river is {n} on?", f"{n} river"]),
        ([f"{n} holds its festival every {month}.", f"The {n} festival takes place in {month}.", f"Each {month} the town of {n} has a festival."],
         [f"When is the festival in {n}?", f"In which month does {n} celebrate?", f"{n} festival month"]),
    ]


GENERIC = [
    (["How do I reset my {o}?", "What are the steps to reset my {o}?", "I forgot my {o}, how can I change it?", "reset {o}"]),
    (["Can you cancel my {s}?", "I want to cancel the {s}.", "Please stop my {s}.", "cancel {s}"]),
    (["Where can I download the {a} app?", "How do I get the {a} app on my phone?", "Is there an app for {a}?", "{a} app download"]),
    (["The {s} renews every month.", "My {s} is billed monthly.", "Each month the {s} is charged again.", "monthly {s} billing"]),
    (["Delete my {o} please.", "I would like my {o} removed.", "Remove my {o}.", "delete {o}"]),
]
SLOT_O = ["password", "account", "email address", "profile", "username", "phone number", "pin code"]
SLOT_S = ["subscription", "order", "booking", "membership", "delivery", "plan", "reservation"]
SLOT_A = ["banking", "weather", "music", "fitness", "travel", "recipe", "news"]


def entity_groups(rng, names):
    """One group per fact: a list of statements and a list of queries that all mean the same."""
    groups = []
    for i, n in enumerate(names):
        maker = (person_facts, product_facts, place_facts)[i % 3]
        groups.extend(maker(rng, n))
    return groups


def generic_groups():
    groups = []
    for forms in GENERIC:
        for o, s, a in zip(SLOT_O, SLOT_S, SLOT_A):
            groups.append(([f.format(o=o, s=s, a=a) for f in forms], []))
    return groups


def make_names(rng, count):
    seen = set()
    while len(seen) < count:
        seen.add(name(rng, rng.choice([2, 3])))
    names = sorted(seen)
    rng.shuffle(names)
    return names


def build(seed=7, n_names=3000):
    rng = random.Random(seed)
    names = make_names(rng, n_names)
    held_out = names[: n_names // 10]
    train_groups = entity_groups(rng, names[n_names // 10:]) + generic_groups()
    eval_groups = entity_groups(rng, held_out)
    return train_groups, eval_groups


def pairs_from(groups, rng):
    """(anchor, positive) pairs: statement↔statement paraphrases and query→statement."""
    out = []
    for statements, queries in groups:
        for _ in range(2):
            a, b = rng.sample(statements, 2)
            out.append((a, b))
        for q in queries:
            out.append((q, rng.choice(statements)))
    return out
