"""parley-tiny v2's new skills: tool calls, conversation summaries, grounded answers with citations,
and out-of-domain answers. Each generator returns (kind, messages, tools) where the last message
is the assistant turn to learn (training) or to score (golden: its text is the expected answer).

Held out for the golden set: the *_GOLDEN phrasings (never used for training), number pairs with
held_out(a, b) true, generic tool names built from GEN_VERBS_GOLDEN x GEN_NOUNS_GOLDEN, and new
entity names (drawn from a separate syllable pool).
"""
from __future__ import annotations

import json
import os
import random
from fractions import Fraction

from chat_format import call_message

# --------------------------------------------------------------------------------------------
# tools (OpenAI function format; rendered with tojson into the system turn)
# --------------------------------------------------------------------------------------------
def fn(name: str, desc: str, props: dict, required: list[str] | None = None) -> dict:
    params = {"type": "object", "properties": props}
    if required is None:
        required = list(props)
    if required:
        params["required"] = required
    return {"type": "function", "function": {"name": name, "description": desc, "parameters": params}}


# The platform's server-side tools exactly as the saga offers them (platform-tools.json, written from
# inference/tools by platform-tools.ts; a unit test fails when the two drift): the model is trained on the
# very prompt and result texts it gets in production (stage 5; stages 1-4 used simplified stand-ins).
PLATFORM_TOOLS = {t["function"]["name"]: t for t in json.load(open(os.path.join(os.path.dirname(__file__), "platform-tools.json")))}
CALCULATOR = PLATFORM_TOOLS["calculator"]
CONVERT = PLATFORM_TOOLS["convert_units"]
NOW = PLATFORM_TOOLS["current_datetime"]
SEARCH_DOCS = PLATFORM_TOOLS["search_documents"]
SEARCH_HIST = PLATFORM_TOOLS["search_history"]


def result_json(d: dict) -> str:
    """A tool result as the platform writes it (JSON.stringify: no spaces)."""
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False)


def decimal_text(x: Fraction) -> tuple[str, bool]:
    """(text, exact) as the platform's tools print a rational: all digits when it terminates within 12
    decimals, else rounded to 12."""
    scaled = x * 10 ** 12
    exact = scaled.denominator == 1
    n = round(scaled)
    sign = "-" if n < 0 else ""
    whole, frac = divmod(abs(n), 10 ** 12)
    digits = str(frac).rjust(12, "0").rstrip("0")
    return sign + str(whole) + ("." + digits if digits else ""), exact
FIXED_TOOLS = [CALCULATOR, CONVERT, NOW, SEARCH_DOCS, SEARCH_HIST]

OOD_ANSWER = ("I can't do that. I can answer questions about capitals, arithmetic and unit conversions, "
              "summarise our conversation, answer from sources you give me and use tools.")
NOT_FOUND = "I can't find that in the sources."
SOURCES_HEAD = "Use these sources to answer. Cite them like [1]."


def lower_or_strip(rng: random.Random, q: str) -> str:
    r = rng.random()
    if r < 0.1:
        return q.lower()
    if r < 0.17:
        return q.rstrip("?.!")
    return q


def imperatives(cores: list[str]) -> list[str]:
    out = []
    for c in cores:
        cap = c[0].upper() + c[1:]
        out += [cap + ".", "Please " + c + ".", "Can you " + c + "?", "Could you " + c + "?", cap + " for me.",
                "I need you to " + c + "."]
    return out


# --------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------
ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def words(n: int) -> str:
    if n < 20:
        return ONES[n]
    t, o = divmod(n, 10)
    return TENS[t] + ("" if o == 0 else "-" + ONES[o])


def held_out(a: int, b: int) -> bool:
    """Number pairs reserved for the golden set (never in a training conversation)."""
    return (a * 37 + b * 11) % 17 == 3


# --------------------------------------------------------------------------------------------
# calculator
# --------------------------------------------------------------------------------------------
# {A} {B}: the operands as shown (digits or words); {op}: the operator as shown.
CALC_OPS = {"+": ["+", "plus"], "-": ["-", "minus"], "*": ["*", "times", "x", "multiplied by"],
            "/": ["/", "divided by"]}
CALC_T = [
    "What is {A} {op} {B}?", "What's {A} {op} {B}?", "what's {A}{op}{B}?", "How much is {A} {op} {B}?",
    "{A} {op} {B}?", "{A} {op} {B} = ?", "{A}{op}{B}", "What does {A} {op} {B} equal?",
    "What is the result of {A} {op} {B}?", "Do you know what {A} {op} {B} is?",
] + imperatives(["calculate {A} {op} {B}", "compute {A} {op} {B}", "work out {A} {op} {B}", "solve {A} {op} {B}",
                 "tell me {A} {op} {B}", "evaluate {A} {op} {B}"])
CALC_WORD_T = {
    "+": ["Add {A} and {B}.", "add {A} and {B}", "Please add {A} and {B}.", "Can you add {A} and {B}?",
          "What is the sum of {A} and {B}?", "Sum of {A} and {B}?", "Add {A} to {B}.", "What do {A} and {B} add up to?"],
    "-": ["Subtract {B} from {A}.", "Please subtract {B} from {A}.", "What is {B} subtracted from {A}?",
          "Take {B} away from {A}.", "What is the difference between {A} and {B}?"],
    "*": ["Multiply {A} by {B}.", "Please multiply {A} by {B}.", "What is the product of {A} and {B}?",
          "Multiply {A} and {B}.", "Can you multiply {A} by {B}?"],
    "/": ["Divide {A} by {B}.", "Please divide {A} by {B}.", "What is {A} divided by {B}?", "Can you divide {A} by {B}?"],
}
CALC_GOLDEN = ["Could you add {A} and {B} for me?", "Work out {A} {op} {B}, please.", "I need the result of {A} {op} {B}.",
               "Tell me what {A} {op} {B} is.", "What is {A} {op} {B} exactly?", "Please compute {A} {op} {B} for me."]


def calc_operands(rng: random.Random, golden: bool, small: bool) -> tuple[str, int, int]:
    while True:
        sym = rng.choice(["+", "+", "-", "*", "/"])
        hi = 99 if small else rng.choice([20, 99, 999])
        if sym == "*":
            a, b = rng.randint(0, hi if hi < 100 else 99), rng.randint(0, 20 if hi > 20 else hi)
        elif sym == "/":
            b = rng.randint(1, 12)
            a = b * rng.randint(0, (hi // b) if hi < 100 else 80)
        else:
            a, b = rng.randint(0, hi), rng.randint(0, hi)
            if sym == "-" and rng.random() < 0.8 and a < b:
                a, b = b, a
        if small and (a > 99 or b > 99):
            continue
        if held_out(a, b) == golden:
            return sym, a, b


def calc_result(sym: str, a: int, b: int) -> str:
    r = {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b else 0}[sym]
    return str(r)


def calculator(rng: random.Random, golden: bool = False) -> tuple[str, list[dict], list]:
    as_words = rng.random() < 0.35
    sym, a, b = calc_operands(rng, golden, small=as_words)
    A, B = (words(a), words(b)) if as_words else (str(a), str(b))
    if golden:
        # the "add" phrasing only for "+" (same number of draws, so the rest of the golden set is unchanged)
        tpl = rng.choice(CALC_GOLDEN)
        if "add" in tpl and sym != "+":
            tpl = CALC_GOLDEN[1]
        q = tpl.format(A=A, B=B, op=rng.choice(CALC_OPS[sym]))
    elif rng.random() < 0.35:
        q = rng.choice(CALC_WORD_T[sym]).format(A=A, B=B)
    else:
        q = rng.choice(CALC_T).format(A=A, B=B, op=rng.choice(CALC_OPS[sym]))
        q = q.replace("  ", " ")
    if not golden:
        q = lower_or_strip(rng, q)
    expr = f"{a} {sym} {b}"
    tools = with_distractors(rng, CALCULATOR, golden)
    msgs = [{"role": "user", "content": q}, call_message([("calculator", {"expression": expr})])]
    stage = rng.random()
    if stage < 0.5:
        return "tool-calculator", msgs, tools
    msgs += [{"role": "tool", "content": result_json({"expression": expr, "result": calc_result(sym, a, b), "exact": True})},
             {"role": "assistant", "content": f"{expr} = {calc_result(sym, a, b)}."}]
    return "tool-calculator-answer", msgs, tools


# --------------------------------------------------------------------------------------------
# unit conversion
# --------------------------------------------------------------------------------------------
# (singular, plural, abbreviations, kind, factor to the base unit)
# (factors as inference/tools/units.ts has them, so results are the platform's to the digit)
UNITS = [
    ("kilometer", "kilometers", ["km"], "len", "1000"), ("meter", "meters", ["m"], "len", "1"),
    ("centimeter", "centimeters", ["cm"], "len", "0.01"), ("millimeter", "millimeters", ["mm"], "len", "0.001"),
    ("mile", "miles", ["mi"], "len", "1609.344"), ("foot", "feet", ["ft"], "len", "0.3048"),
    ("inch", "inches", ["in"], "len", "0.0254"), ("kilogram", "kilograms", ["kg"], "mass", "1000"),
    ("gram", "grams", ["g"], "mass", "1"), ("pound", "pounds", ["lb"], "mass", "453.59237"),
    ("ounce", "ounces", ["oz"], "mass", "28.349523125"), ("liter", "liters", ["l"], "vol", "1"),
    ("milliliter", "milliliters", ["ml"], "vol", "0.001"), ("gallon", "gallons", ["gal"], "vol", "3.785411784"),
    ("hour", "hours", ["h"], "time", "3600"), ("minute", "minutes", ["min"], "time", "60"),
    ("second", "seconds", ["s"], "time", "1"), ("day", "days", [], "time", "86400"), ("week", "weeks", [], "time", "604800"),
]
CONV_T = [
    "How many {to} are in {n} {frm}?", "How many {to} is {n} {frm}?", "{n} {frm} in {to}?", "What is {n} {frm} in {to}?",
    "{n} {frm} to {to}", "{n} {frm} is how many {to}?", "How many {to} are there in {n} {frm}?",
] + imperatives(["convert {n} {frm} to {to}", "convert {n} {frm} into {to}", "express {n} {frm} in {to}",
                 "change {n} {frm} into {to}"])
CONV_GOLDEN = ["How many {to} would {n} {frm} be?", "Turn {n} {frm} into {to}, please.", "I need {n} {frm} in {to}.",
               "Could you tell me {n} {frm} in {to}?"]


def fmt_num(x: float) -> str:
    x = round(x, 2)
    return str(int(x)) if x == int(x) else f"{x:g}"


def units(rng: random.Random, golden: bool = False) -> tuple[str, list[dict], list]:
    while True:
        u1, u2 = rng.sample(UNITS, 2)
        if u1[3] == u2[3]:
            break
    while True:
        n = rng.choice([rng.randint(1, 20), rng.randint(1, 500), rng.randint(1, 99) + rng.choice([0.5, 0.25, 0.1])])
        if held_out(int(n * 4), UNITS.index(u1)) == golden:
            break
    ns = fmt_num(n)
    frm = u1[0] if n == 1 else u1[1]
    if not golden and u1[2] and rng.random() < 0.25:
        frm = u1[2][0]
    to = u2[1]
    q = rng.choice(CONV_GOLDEN if golden else CONV_T).format(n=ns, frm=frm, to=to)
    if not golden:
        q = lower_or_strip(rng, q)
    # the units as the user wrote them (the tool knows names, plurals and symbols): copied, not mapped
    args = {"value": int(n) if n == int(n) else n, "from": frm, "to": to}
    tools = with_distractors(rng, CONVERT, golden)
    msgs = [{"role": "user", "content": q}, call_message([("convert_units", args)])]
    if rng.random() < 0.5:
        return "tool-units", msgs, tools
    v, exact = decimal_text(Fraction(ns) * Fraction(u1[4]) / Fraction(u2[4]))
    resp = result_json({"value": ns, "from": frm, "to": to, "result": v, "exact": exact})
    msgs += [{"role": "tool", "content": resp}, {"role": "assistant", "content": f"{ns} {frm} is {v} {to}."}]
    return "tool-units-answer", msgs, tools


# --------------------------------------------------------------------------------------------
# current date / time
# --------------------------------------------------------------------------------------------
TIME_Q = ["What time is it?", "What's the time?", "What is the time now?", "Do you know what time it is?",
          "What time is it now?", "Tell me the time.", "Can you tell me the time?", "Current time?", "time now?"]
DATE_Q = ["What is the date today?", "What's today's date?", "What day is it today?", "What is today's date?",
          "Tell me the date.", "Which day is it?", "Today's date?", "What's the date?", "Can you tell me the date?"]
TIME_GOLDEN = ["Could you check the time for me?", "I need to know the time.", "What time do we have?"]
DATE_GOLDEN = ["Could you tell me what day it is?", "I need today's date.", "Which date is it today?"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def clock(rng: random.Random, golden: bool = False) -> tuple[str, list[dict], list]:
    is_time = rng.random() < 0.5
    pool = (TIME_GOLDEN if is_time else DATE_GOLDEN) if golden else (TIME_Q if is_time else DATE_Q)
    q = rng.choice(pool)
    if not golden:
        q = lower_or_strip(rng, q)
    tools = with_distractors(rng, NOW, golden)
    msgs = [{"role": "user", "content": q}, call_message([("current_datetime", {})])]
    if rng.random() < 0.5:
        return "tool-time", msgs, tools
    date = f"{rng.randint(2020, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    hms = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    wd = rng.choice(WEEKDAYS)
    # inference/tools/datetime.ts's result (UTC, the default zone)
    resp = result_json({"iso": f"{date}T{hms}+00:00", "timezone": "UTC", "date": date, "time": hms, "weekday": wd,
                        "utcOffset": "+00:00"})
    ans = f"It is {hms[:5]} UTC." if is_time else f"Today is {wd}, {date}."
    msgs += [{"role": "tool", "content": resp}, {"role": "assistant", "content": ans}]
    return "tool-time-answer", msgs, tools


# --------------------------------------------------------------------------------------------
# search over documents / history
# --------------------------------------------------------------------------------------------
TOPICS = ["the budget report", "project deadlines", "the trip to Oslo", "my tax return", "the team meeting",
          "the new logo", "holiday plans", "the server migration", "the book club", "the garden project",
          "the car insurance", "the rent contract", "the product launch", "the training plan", "the wedding",
          "the quarterly review", "the kitchen renovation", "the job interview", "the marketing plan", "the concert"]
TOPICS_GOLDEN = ["the dentist appointment", "the school fees", "the bike repair", "the office move", "the birthday party"]
DOCS_T = ["Search my documents for {t}.", "Find {t} in my documents.", "Look in my files for {t}.",
          "Can you search my documents for {t}?", "Do my documents say anything about {t}?", "Find my notes on {t}."]
HIST_T = ["What did we say about {t} earlier?", "Search our past conversations for {t}.",
          "Did we talk about {t} before?", "Look through our chat history for {t}.", "What did I tell you about {t}?"]
DOCS_GOLDEN = ["Could you look through my documents for {t}?", "Check my files for {t}, please."]
HIST_GOLDEN = ["Have we discussed {t} before?", "Check our earlier conversations for {t}, please."]
SNIPPETS = ["It is due on {d}.", "The total is {n} euros.", "It was moved to {d}.", "{p} is in charge of it.",
            "It needs {n} more hours of work.", "It starts on {d}."]
PEOPLE = ["Anna", "Ben", "Carla", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def search(rng: random.Random, golden: bool = False) -> tuple[str, list[dict], list]:
    docs = rng.random() < 0.5
    t = rng.choice(TOPICS_GOLDEN if golden else TOPICS)
    if not golden and rng.random() < 0.5:  # made-up topics: the query can only be copied, not memorised
        t = "the " + pseudo(rng) + " " + rng.choice(COPY_NOUNS)
    pool = (DOCS_GOLDEN if docs else HIST_GOLDEN) if golden else (DOCS_T if docs else HIST_T)
    q = rng.choice(pool).format(t=t)
    if not golden:
        q = lower_or_strip(rng, q)
    tool = SEARCH_DOCS if docs else SEARCH_HIST
    name = tool["function"]["name"]
    tools = with_distractors(rng, tool, golden)
    query = t[4:] if t.startswith("the ") else t
    msgs = [{"role": "user", "content": q}, call_message([(name, {"query": query})])]
    if rng.random() < 0.5:
        return "tool-search", msgs, tools
    if rng.random() < 0.2:
        empty = "No results." if docs else result_json({"query": query, "results": []})
        msgs += [{"role": "tool", "content": empty},
                 {"role": "assistant", "content": f"I can't find anything about {query}."}]
        return "tool-search-answer", msgs, tools
    title = query[0].upper() + query[1:]
    snips = [rng.choice(SNIPPETS).format(d=f"{rng.randint(1, 28)} {rng.choice(MONTHS)}", n=rng.randint(2, 900),
                                         p=rng.choice(PEOPLE)) for _ in range(1 if rng.random() < 0.6 else 2)]
    if docs:
        # search_documents' numbered passages (inference/tools renderDocumentHits); the answer cites [1]
        result = "\n".join(f"[{i + 1}] {title}: {x}" for i, x in enumerate(snips))
        answer = f"{title}: {snips[0][:-1]} [1]."
    else:
        # search_history's JSON (conversation id, title, matching message, time); the answer quotes the first
        result = result_json({"query": query, "results": [
            {"conversationId": "%08x-%04x-4%03x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                                               0x8000 | rng.getrandbits(14), rng.getrandbits(48)),
             "title": title, "snippet": x,
             "updatedAt": f"{rng.randint(2024, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00.000Z"}
            for x in snips]})
        answer = f"{title}: {snips[0]}"
    msgs += [{"role": "tool", "content": result}, {"role": "assistant", "content": answer}]
    return "tool-search-answer", msgs, tools


# --------------------------------------------------------------------------------------------
# arbitrary tools named only in the request's tool list
# --------------------------------------------------------------------------------------------
GEN_VERBS = ["get", "send", "create", "book", "find", "check", "play", "add", "delete", "start", "order",
             "schedule", "cancel", "update", "track", "open", "share", "save", "print", "stop"]
GEN_NOUNS = ["weather", "email", "reminder", "note", "timer", "alarm", "song", "ticket", "meeting", "flight",
             "hotel", "table", "message", "task", "event", "file", "package", "invoice", "recipe", "photo",
             "playlist", "contact", "pizza", "taxi"]
GEN_VERBS_GOLDEN = ["fetch", "lookup", "post", "rename"]
GEN_NOUNS_GOLDEN = ["parcel", "lamp", "podcast", "budget"]
GEN_PARAMS = ["city", "name", "title", "to", "text", "date", "item", "place", "id", "size", "color", "time",
              "topic", "person", "address", "level"]
GEN_VALUES = ["Oslo", "Paris", "Anna", "Ben", "tomorrow", "blue", "large", "42", "7", "the kitchen", "jazz",
              "Friday", "noon", "red", "small", "Lima", "Carla", "report", "groceries", "10 am", "Hugo", "green"]
GEN_VALUES_GOLDEN = ["Kyoto", "Zoe", "purple", "next week", "Boston", "tea"]
GEN_T1 = ["{V} the {N} with {p} {v}.", "Please {v_} the {N} with {p} {v}.", "Can you {v_} a {N} with {p} {v}?",
          "{V} a {N}, {p}: {v}.", "I want to {v_} a {N} with {p} {v}.", "Use {name} with {p} {v}."]
GEN_T2 = ["{V} the {N} with {p} {v} and {p2} {v2}.", "Please {v_} a {N} with {p} {v} and {p2} {v2}.",
          "Can you {v_} the {N}? {P}: {v}, {p2}: {v2}."]
GEN_GOLDEN = ["Could you {v_} a {N} with {p} {v} for me?", "{V} a {N} for me with {p} {v}."]


def generic_tool(rng: random.Random, golden: bool) -> tuple[dict, str, str]:
    if golden:
        v, n = rng.choice(GEN_VERBS_GOLDEN), rng.choice(GEN_NOUNS_GOLDEN)
    else:
        v, n = rng.choice(GEN_VERBS + GEN_VERBS_GOLDEN), rng.choice(GEN_NOUNS + GEN_NOUNS_GOLDEN)
        if v in GEN_VERBS_GOLDEN and n in GEN_NOUNS_GOLDEN:  # the golden combinations stay unseen
            n = rng.choice(GEN_NOUNS)
        # made-up verbs and nouns in a third of the tools: names must be copied from the tool list
        if rng.random() < 0.33:
            v = pseudo(rng)
        if rng.random() < 0.33:
            n = pseudo(rng)
    return (v, n, f"{v}_{n}")


def generic(rng: random.Random, golden: bool = False) -> tuple[str, list[dict], list]:
    v, n, name = generic_tool(rng, golden)
    two = not golden and rng.random() < 0.3
    p, p2 = rng.sample(GEN_PARAMS, 2)
    vals = GEN_VALUES_GOLDEN if golden else GEN_VALUES
    val, val2 = rng.choice(vals), rng.choice(vals)
    if not golden:  # values that can only be copied from the request
        val, val2 = (copy_value(rng) if rng.random() < 0.5 else x for x in (val, val2))
    props = {p: {"type": "string"}}
    if two:
        props[p2] = {"type": "string"}
    tool = fn(name, f"{v.capitalize()} a {n}.", props)
    fmt = dict(V=v.capitalize(), v_=v, N=n, p=p, v=val, p2=p2, v2=val2, P=p.capitalize(), name=name)
    q = rng.choice(GEN_GOLDEN if golden else (GEN_T2 if two else GEN_T1)).format(**fmt)
    args = {p: val, p2: val2} if two else {p: val}
    distract = []
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        dv, dn, dname = generic_tool(rng, golden)
        if dname != name:
            distract.append(fn(dname, f"{dv.capitalize()} a {dn}.", {rng.choice(GEN_PARAMS): {"type": "string"}}))
    if rng.random() < 0.15:
        distract.append(rng.choice(FIXED_TOOLS))
    tools = distract + [tool]
    rng.shuffle(tools)
    msgs = [{"role": "user", "content": q}, call_message([(name, args)])]
    if rng.random() < 0.6:
        return "tool-generic", msgs, tools
    resp = rng.choice(["Done.", f"OK: {val}.", f"The {n} is ready.", f"No {n} found for {val}."])
    msgs += [{"role": "tool", "content": resp}, {"role": "assistant", "content": resp}]
    return "tool-generic-answer", msgs, tools


# What the saga offers a tenant with the default configuration (bin/tools.ts: search_documents is opt-in).
DEFAULT_OFFER = [CALCULATOR, CONVERT, NOW, SEARCH_HIST]


def with_distractors(rng: random.Random, tool: dict, golden: bool) -> list:
    if rng.random() < 0.12:
        # the platform's own offer, in its order: what the model sees in production (not more often: its
        # ~560 tokens made a third of the training tokens at 0.35, and a step twice as slow)
        offer = list(DEFAULT_OFFER)
        if tool is SEARCH_DOCS or rng.random() < 0.3:
            offer.append(SEARCH_DOCS)
        return offer
    others = [t for t in FIXED_TOOLS if t is not tool]
    tools = [tool] + rng.sample(others, rng.choice([0, 0, 0, 1, 1, 2]))
    if rng.random() < 0.15:
        v, n, name = generic_tool(rng, golden)
        tools.append(fn(name, f"{v.capitalize()} a {n}.", {rng.choice(GEN_PARAMS): {"type": "string"}}))
    rng.shuffle(tools)
    return tools


# --------------------------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------------------------
SUMMARY_T = ["Summarise this conversation.", "Summarize this conversation.", "Summarise our conversation so far.",
             "Can you summarize our chat?", "Give me a summary of this conversation.", "Summary please.",
             "Please summarise what we talked about.", "Sum up our conversation.", "Summarize the chat so far.",
             "Could you summarise this chat?", "What have we talked about so far?", "Recap our conversation."]
SUMMARY_GOLDEN = ["Please give me a short summary of our chat.", "Could you sum up this conversation?",
                  "Summarise the conversation for me, please."]


def summary_text(pairs: list[tuple[str, str]]) -> str:
    """The fixed summary format (documented in README.md; context assembly relies on it)."""
    return "Summary:\n" + "\n".join(f"- Q: {q}\n  A: {a}" for q, a in pairs)


def summary(rng: random.Random, exchanges: list[tuple[str, str]], golden: bool = False) -> tuple[str, list[dict], list]:
    msgs: list[dict] = []
    for q, a in exchanges:
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    q = rng.choice(SUMMARY_GOLDEN if golden else SUMMARY_T)
    if not golden:
        q = lower_or_strip(rng, q)
    msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": summary_text(exchanges)}]
    return "summary", msgs, []


# --------------------------------------------------------------------------------------------
# grounded answers with [n] citations
# --------------------------------------------------------------------------------------------
SYL = ["zor", "van", "mi", "rel", "ta", "vik", "bel", "dor", "ka", "lin", "mor", "sen", "ar", "tis", "po", "len",
       "gra", "fel", "nu", "bo", "ris", "tan", "el", "quor"]
SYL_GOLDEN = ["yss", "pla", "drun", "ke", "wim", "oth"]
KINDS = ["Bridge", "Tower", "Museum", "Library", "Hotel", "Park", "Station", "Theatre", "Castle", "Market"]
CITIES = ["Oslo", "Lima", "Cairo", "Vienna", "Lyon", "Porto", "Turin", "Bergen", "Quito", "Kyiv", "Perth", "Malmo"]
# relation: (fact, training questions, golden questions)
RELATIONS = {
    "built": ("The {E} was built in {y}.", ["When was the {E} built?", "What year was the {E} built?",
                                           "When was the {E} built", "Year the {E} was built?"],
              ["In which year was the {E} built?"]),
    "height": ("The {E} is {n} meters tall.", ["How tall is the {E}?", "What height is the {E}?",
                                               "How many meters tall is the {E}?"],
               ["What is the height of the {E}?"]),
    "city": ("The {E} is in {c}.", ["Where is the {E}?", "Which city is the {E} in?", "Where is the {E} located?"],
             ["In which city is the {E}?"]),
    "run": ("The {E} is run by {p}.", ["Who runs the {E}?", "Who is in charge of the {E}?", "Who manages the {E}?"],
            ["Who is running the {E}?"]),
    "visitors": ("The {E} has {n} visitors a year.", ["How many visitors does the {E} have?",
                                                     "How many visitors does the {E} have a year?"],
                 ["How many visitors does the {E} get a year?"]),
    "opens": ("The {E} opens at {h} am.", ["When does the {E} open?", "At what time does the {E} open?",
                                          "Opening time of the {E}?"],
              ["What time does the {E} open?"]),
}


# Stage 8 (--mix repair4): this share of training entities get names of random letters (never a golden
# syllable), which no memorised syllable predicts: the answer can only copy them from the sources.
RANDOM_NAME_SHARE = 0.0
CONSONANTS, VOWELS = "bcdfghjklmnprstvwz", "aeiou"


def random_name(rng: random.Random) -> str:
    while True:
        name = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) + (rng.choice(CONSONANTS) if rng.random() < 0.4 else "")
                       for _ in range(rng.choice([1, 2, 2, 3])))
        if not any(s in name for s in SYL_GOLDEN):
            return name


def entity(rng: random.Random, golden: bool) -> str:
    if not golden and rng.random() < RANDOM_NAME_SHARE:
        return random_name(rng).capitalize() + " " + rng.choice(KINDS)
    syl = SYL_GOLDEN + SYL[:6] if golden else SYL
    while True:
        name = "".join(rng.choice(syl) for _ in range(rng.choice([2, 2, 3])))
        if golden == any(s in name for s in SYL_GOLDEN):
            return name.capitalize() + " " + rng.choice(KINDS)


def fact(rng: random.Random, e: str, rel: str) -> str:
    return RELATIONS[rel][0].format(E=e, y=rng.randint(1200, 2020), n=rng.randint(12, 900), c=rng.choice(CITIES),
                                    p=rng.choice(PEOPLE), h=rng.randint(6, 11))


def grounded(rng: random.Random, golden: bool = False) -> tuple[str, list[dict], list]:
    k = rng.choice([1, 2, 2, 3])
    ents = [entity(rng, golden) for _ in range(k)]
    rels = [rng.choice(list(RELATIONS)) for _ in range(k)]
    facts = [fact(rng, e, r) for e, r in zip(ents, rels)]
    present = rng.random() < 0.7
    if present:
        i = rng.randrange(k)
        e, rel = ents[i], rels[i]
        ans = facts[i][:-1] + f" [{i + 1}]."
    else:
        # a hard negative: a known entity with another relation, or a known relation of a new entity
        if rng.random() < 0.5:
            e = rng.choice(ents)
            rel = rng.choice([r for r in RELATIONS if all(not (x == e and y == r) for x, y in zip(ents, rels))])
        else:
            e = entity(rng, golden)
            rel = rng.choice(rels)
        ans = NOT_FOUND
    q = rng.choice(RELATIONS[rel][2] if golden else RELATIONS[rel][1]).format(E=e)
    if not golden:
        q = lower_or_strip(rng, q) if rng.random() < 0.5 else q
    system = SOURCES_HEAD + "\n" + "\n".join(f"[{j + 1}] {f}" for j, f in enumerate(facts))
    msgs = [{"role": "system", "content": system}, {"role": "user", "content": q}, {"role": "assistant", "content": ans}]
    # in production the sources and the default tools share the system turn (retrieval on, tools on)
    tools = list(DEFAULT_OFFER) if not golden and rng.random() < 0.15 else []
    return ("grounded" if present else "grounded-absent"), msgs, tools


# --------------------------------------------------------------------------------------------
# out of domain
# --------------------------------------------------------------------------------------------
OOD_T = ["Tell me a joke about {x}.", "Write a poem about {x}.", "Write a story about {x}.", "Sing a song about {x}.",
         "What do you think about {x}?", "Draw a picture of {x}.", "Write an essay on {x}.", "Tell me a fun fact about {x}.",
         "Give me a recipe with {x}.", "What is the history of {x}?", "Write a haiku about {x}.",
         "Can you write a limerick about {x}?", "Tell me something funny about {x}.", "Describe {x} in detail.",
         "Compose a song about {x}.", "What's your opinion on {x}?", "Tell me a story about {x}."]
OOD_FIXED = ["What is the meaning of life?", "Who will win the next election?", "What's the weather like?",
             "Write me some Python code.", "Translate this into French.", "Can you book me a flight?",
             "What's the latest news?", "Recommend a good movie.", "Play some music.", "What stocks should I buy?",
             "Do you dream?", "Help me with my homework essay.", "Tell me a riddle.", "What is love?"]
OOD_X = ["cats", "dogs", "the sea", "pizza", "robots", "winter", "football", "my boss", "the moon", "coffee",
         "trains", "birds", "chess", "music", "summer", "space", "computers", "rain", "books", "horses"]
OOD_X_GOLDEN = ["penguins", "bananas", "mountains", "dragons", "tea", "clouds", "pirates", "bicycles"]
OOD_GOLDEN = ["Tell me a joke about {x}.", "Make up a story about {x}.", "Write a short poem about {x}, please.",
              "Tell me something interesting about {x}.", "Could you write a song about {x}?",
              "What is your view on {x}?"]


def ood(rng: random.Random, golden: bool = False) -> tuple[str, list[dict], list]:
    if golden:
        q = rng.choice(OOD_GOLDEN).format(x=rng.choice(OOD_X_GOLDEN))
    elif rng.random() < 0.25:
        q = rng.choice(OOD_FIXED)
    else:
        q = rng.choice(OOD_T).format(x=rng.choice(OOD_X))
        if q in {g.format(x=x) for g in OOD_GOLDEN for x in OOD_X}:
            q = "Write a poem about " + rng.choice(OOD_X) + "."
    if not golden:
        q = lower_or_strip(rng, q)
    return "ood", [{"role": "user", "content": q}, {"role": "assistant", "content": OOD_ANSWER}], []


# --------------------------------------------------------------------------------------------
# copying: made-up words that no amount of memorising predicts (v2 stage 4)
# --------------------------------------------------------------------------------------------
# Stages 1-3 never learned to copy a name from the prompt (grounded answers, search queries, unseen
# tool names stayed at 0%): every training value came from a small list the model could memorise.
# Made-up words from the training syllables make copying the only way to lower the loss.
COPY_NOUNS = ["report", "plan", "notes", "trip", "meeting", "project", "contract", "list", "budget", "party"]
ECHO_T = ["Repeat exactly: {x}", "Say this back to me: {x}", "Copy this text: {x}", "Repeat after me: {x}",
          "Please repeat: {x}", "Echo this: {x}"]


def pseudo(rng: random.Random) -> str:
    return "".join(rng.choice(SYL) for _ in range(rng.choice([1, 2, 2, 3])))


def copy_value(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.4:
        return pseudo(rng).capitalize()
    if r < 0.6:
        return pseudo(rng)
    if r < 0.8:
        return str(rng.randint(0, 9999))
    return pseudo(rng).capitalize() + " " + pseudo(rng).capitalize()


ECHO_WORDS = GEN_NOUNS + PEOPLE + CITIES + MONTHS + GEN_VERBS + GEN_PARAMS + KINDS + OOD_X


def echo(rng: random.Random, golden: bool = False) -> tuple[str, list[dict], list]:
    x = " ".join(copy_value(rng) if rng.random() < 0.5 else rng.choice(ECHO_WORDS) for _ in range(rng.randint(2, 12)))
    q = rng.choice(ECHO_T).format(x=x)
    return "echo", [{"role": "user", "content": q}, {"role": "assistant", "content": x}], []
