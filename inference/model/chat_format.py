"""parley-tiny's chat format: ChatML with tools in the Qwen2.5 / Hermes style.

CHAT_TEMPLATE is the Jinja template written to tokenizer_config.json; render() is its Python twin,
used to build the training corpus. tests/unit/chat-template-tools.test.ts checks that transformers.js
`apply_chat_template(messages, { tools })` and Parley's own renderer (inference/engine/chat-template.ts)
give exactly the strings render() wrote to chat-template-fixtures.jsonl.

Differences from Qwen2.5-Instruct's template, on purpose:
- no default system prompt (Parley's v1 rendered none; with tools and no system message the system
  turn holds only the "# Tools" block);
- a tool call's `arguments` given as a JSON string (the OpenAI wire format) is written as is, a
  mapping is written with `tojson` (Qwen's template would double-encode a string);
- messages with other roles are rendered as plain ChatML turns instead of being dropped.
"""
from __future__ import annotations

import json

TOOLS_HEAD = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
TOOLS_TAIL = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>"
)


def _jinja_str(s: str) -> str:
    return json.dumps(s)  # a double-quoted literal with \n escapes, valid Jinja


CHAT_TEMPLATE = (
    "{%- if tools %}"
    "{{- '<|im_start|>system\\n' }}"
    "{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] + '\\n\\n' }}{%- endif %}"
    "{{- " + _jinja_str(TOOLS_HEAD) + " }}"
    "{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}"
    "{{- " + _jinja_str(TOOLS_TAIL + "<|im_end|>\n") + " }}"
    "{%- elif messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'system' and loop.first %}"
    "{%- elif message['role'] == 'assistant' and message['tool_calls'] %}"
    "{{- '<|im_start|>assistant' }}"
    "{%- if message['content'] %}{{- '\\n' + message['content'] }}{%- endif %}"
    "{%- for tool_call in message['tool_calls'] %}"
    "{%- if tool_call['function'] is defined %}{%- set tool_call = tool_call['function'] %}{%- endif %}"
    "{{- '\\n<tool_call>\\n{\"name\": \"' + tool_call['name'] + '\", \"arguments\": ' }}"
    "{%- if tool_call['arguments'] is string %}{{- tool_call['arguments'] }}{%- else %}{{- tool_call['arguments'] | tojson }}{%- endif %}"
    "{{- '}\\n</tool_call>' }}"
    "{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- elif message['role'] == 'tool' %}"
    "{%- if loop.first or messages[loop.index0 - 1]['role'] != 'tool' %}{{- '<|im_start|>user' }}{%- endif %}"
    "{{- '\\n<tool_response>\\n' + message['content'] + '\\n</tool_response>' }}"
    "{%- if loop.last or messages[loop.index0 + 1]['role'] != 'tool' %}{{- '<|im_end|>\\n' }}{%- endif %}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def tojson(x) -> str:
    """transformers' / transformers.js' `tojson` filter: json.dumps with the default separators."""
    return json.dumps(x, ensure_ascii=False)


def tool_call_text(name: str, arguments: dict) -> str:
    """What the model writes for one call (and what the template renders for it)."""
    return '<tool_call>\n{"name": "' + name + '", "arguments": ' + tojson(arguments) + "}\n</tool_call>"


def call_message(calls: list[tuple[str, dict]]) -> dict:
    """An assistant message holding tool calls, in the OpenAI shape (arguments as a mapping)."""
    return {"role": "assistant", "content": "",
            "tool_calls": [{"type": "function", "function": {"name": n, "arguments": a}} for n, a in calls]}


def assistant_text(m: dict) -> str:
    """The text the model generates for an assistant message (after '<|im_start|>assistant\\n')."""
    if not m.get("tool_calls"):
        return m["content"]
    parts = [m["content"]] if m.get("content") else []
    for tc in m["tool_calls"]:
        f = tc.get("function", tc)
        args = f["arguments"] if isinstance(f["arguments"], str) else tojson(f["arguments"])
        parts.append('<tool_call>\n{"name": "' + f["name"] + '", "arguments": ' + args + "}\n</tool_call>")
    return "\n".join(parts)


def segments(msgs: list[dict], tools: list | None = None) -> list[tuple[str, bool]]:
    """The rendering as (text, is_assistant_output) pieces; the assistant pieces are the generated
    text plus its <|im_end|> (what the loss covers)."""
    out: list[tuple[str, bool]] = []
    first_system = bool(msgs) and msgs[0]["role"] == "system"
    if tools:
        s = "<|im_start|>system\n"
        if first_system:
            s += msgs[0]["content"] + "\n\n"
        s += TOOLS_HEAD + "".join("\n" + tojson(t) for t in tools) + TOOLS_TAIL + "<|im_end|>\n"
        out.append((s, False))
    elif first_system:
        out.append(("<|im_start|>system\n" + msgs[0]["content"] + "<|im_end|>\n", False))
    for i, m in enumerate(msgs):
        role = m["role"]
        if role == "system" and i == 0:
            continue
        if role == "assistant":
            out.append(("<|im_start|>assistant\n", False))
            out.append((assistant_text(m) + "<|im_end|>", True))
            out.append(("\n", False))
        elif role == "tool":
            s = "<|im_start|>user" if i == 0 or msgs[i - 1]["role"] != "tool" else ""
            s += "\n<tool_response>\n" + m["content"] + "\n</tool_response>"
            if i == len(msgs) - 1 or msgs[i + 1]["role"] != "tool":
                s += "<|im_end|>\n"
            out.append((s, False))
        else:
            out.append(("<|im_start|>" + role + "\n" + m["content"] + "<|im_end|>\n", False))
    return out


def render(msgs: list[dict], tools: list | None = None, add_generation_prompt: bool = False) -> str:
    s = "".join(t for t, _ in segments(msgs, tools))
    return s + ("<|im_start|>assistant\n" if add_generation_prompt else "")


def fixtures() -> list[dict]:
    """Conversations covering every branch of the template, with the text render() gives
    (written to chat-template-fixtures.jsonl; the JS renderers must give the same text)."""
    import random

    import skills

    rng = random.Random(17)
    out = []
    for gen in [skills.calculator, skills.units, skills.clock, skills.search, skills.generic]:
        for _ in range(3):
            _, msgs, tools = gen(rng)
            out.append({"messages": msgs, "tools": tools})
    _, msgs, _ = skills.grounded(rng)
    out.append({"messages": msgs, "tools": []})
    out.append({"messages": [{"role": "system", "content": "You are Parley."}, {"role": "user", "content": "What is 2 + 2?"}],
                "tools": [skills.CALCULATOR, skills.NOW]})
    out.append({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "tools": []})
    # OpenAI wire shape: arguments as a JSON string, ids; two parallel calls; two tool results in a row
    both = {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "1 + 2"}'}},
        {"id": "call_2", "type": "function", "function": {"name": "current_datetime", "arguments": "{}"}}]}
    out.append({"messages": [{"role": "user", "content": "1 + 2, and the time?"}, both,
                             {"role": "tool", "tool_call_id": "call_1", "content": "3"},
                             {"role": "tool", "tool_call_id": "call_2", "content": '{"time": "10:00"}'},
                             {"role": "assistant", "content": "3, and it is 10:00."}],
                "tools": [skills.CALCULATOR, skills.NOW]})
    out.append({"messages": [{"role": "user", "content": "x"},
                             {"role": "assistant", "content": "Let me check.", "tool_calls": [
                                 {"function": {"name": "calculator", "arguments": {"expression": "2 * 3"}}}]}],
                "tools": [skills.CALCULATOR]})
    for f in out:
        f["text"] = render(f["messages"], f["tools"], add_generation_prompt=True)
    return out


if __name__ == "__main__":
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chat-template-fixtures.jsonl")
    with open(path, "w") as fh:
        for f in fixtures():
            fh.write(json.dumps(f, ensure_ascii=False) + "\n")
    print(f"wrote {path}")
