import { parseToolCalls } from '../../inference/engine/tool-format.ts';
import { jsonObjectEnd, toolCallBlockAt } from '../../schemas/tool-call-format.ts';
import { toolCallId, type ToolPlan } from './tools.ts';

// The answer of a chat completion that offered tools, read as it is generated and turned into the
// deltas a client is sent: `content` text, or `tool_calls` (per call: index, id, type and name
// first, then the arguments in fragments), the way the official client assembles them.
//
// - `required` / a named function: the engine constrains the output to the tool-call envelope, so
//   each call is streamed as it is generated — its header once the name is known, then argument
//   text as it comes (holding back only the envelope's closing `}\n</tool_call>`).
// - `auto`: text streams as content, except what may be the start of `<tool_call>`; from a
//   `<tool_call>` on, the rest is held until the end, then parsed: valid calls are sent as
//   tool_calls, anything else (an unknown function, broken JSON) as the text it is.
// - A call cut off (max_tokens, or one of the client's stop strings) is never shown as markup: under
//   the tool-call constraint the text is the envelope, so the calls so far are sent, the last one
//   with the arguments text generated so far (`cut`: its finish reason stays `length` or `stop`, not
//   `tool_calls`, as OpenAI answers a call cut at max_tokens); a call cut before its name is dropped.

export type Delta = { content: string } | { tool_calls: unknown[] };
export type ToolCall = { id: string; type: 'function'; function: { name: string; arguments: string } };

export const TOOL_CALL_OPEN = '<tool_call>';
const CLOSE = '}\n</tool_call>';
const HEADER = /^\s*<tool_call>\n\{"name": ?"((?:[^"\\]|\\.)*)", ?"arguments": ?/;
const FRAGMENT = 32;

/** the text is `<tool_call>` blocks, the last one not closed (or its opening tag cut short) */
function endsInCutCall(text: string): boolean {
  for (let at = 0; ;) {
    while (/\s/.test(text[at] ?? '')) at++;
    if (at < text.length && TOOL_CALL_OPEN.startsWith(text.slice(at))) return true;
    if (!text.startsWith(TOOL_CALL_OPEN, at)) return false;
    const block = toolCallBlockAt(text, at);
    if (!block.closed) return true;
    at = block.end;
  }
}

/** Text released as it comes while a marker may still follow: everything before the marker except a
 *  tail that may be its start; from the marker on, everything is held. */
export class HoldFromMarker {
  private buf = '';
  private from: string | null = null; // the text from the marker on
  constructor(private readonly marker: string) {}

  /** the part of the text so far that may be shown */
  push(delta: string): string {
    if (this.from !== null) {
      this.from += delta;
      return '';
    }
    this.buf += delta;
    const at = this.buf.indexOf(this.marker);
    if (at >= 0) {
      this.from = this.buf.slice(at);
      return this.buf.slice(0, at);
    }
    let keep = 0;
    for (let k = Math.min(this.marker.length - 1, this.buf.length); k > 0; k--) {
      if (this.marker.startsWith(this.buf.slice(-k))) { keep = k; break; }
    }
    const out = this.buf.slice(0, this.buf.length - keep);
    this.buf = this.buf.slice(this.buf.length - keep);
    return out;
  }

  /** the text from the marker on (null: no marker yet) */
  get held(): string | null {
    return this.from;
  }

  /** what has not been released: the held text, or a tail that turned out not to be the marker */
  get rest(): string {
    return this.from ?? this.buf;
  }
}

export class ToolCallStream {
  private buf = ''; // constrained: the text not yet turned into deltas
  private readonly auto = new HoldFromMarker(TOOL_CALL_OPEN); // auto: text until the first <tool_call>
  private inArgs = false;
  private sentArgs = 0;
  private wasCut = false;
  readonly calls: ToolCall[] = [];
  private readonly constrained: boolean;

  constructor(private readonly plan: ToolPlan, private readonly generationId: string) {
    this.constrained = plan.mode === 'required' || plan.mode === 'named';
  }

  push(delta: string): Delta[] {
    if (this.constrained) return this.pushConstrained(delta);
    return this.content(this.auto.push(delta));
  }

  /** what is left to send at the end */
  end(): Delta[] {
    if (this.constrained) return this.endConstrained();
    const held = this.auto.held;
    if (held === null) return this.content(this.auto.rest);
    const parsed = parseToolCalls(held, new Set(this.plan.names));
    if (!parsed) {
      // whole calls and one cut off: read as `required` reads them (the constraint made them envelopes)
      if (this.plan.constraint?.type === 'tool_calls' && endsInCutCall(held)) return [...this.pushConstrained(held), ...this.endConstrained()];
      return this.content(held);
    }
    const out: Delta[] = [];
    if (parsed.content) out.push({ content: parsed.content });
    for (const c of this.plan.parallel ? parsed.calls : parsed.calls.slice(0, 1)) {
      const args = JSON.stringify(c.arguments);
      out.push(this.header(c.name));
      for (let i = 0; i < args.length; i += FRAGMENT) out.push(this.args(args.slice(i, i + FRAGMENT)));
    }
    return out;
  }

  /** true when the last call was cut off in its arguments (they are what was generated, maybe not JSON) */
  get cut(): boolean {
    return this.wasCut;
  }

  // The envelope cut off: the arguments held back (the tail that might have been the closing
  // `}\n</tool_call>`) up to the end of their object, or all of them if it never closed. A call
  // cut before its name is complete has nothing to send.
  private endConstrained(): Delta[] {
    if (!this.inArgs) return [];
    this.inArgs = false;
    this.wasCut = true;
    const close = this.buf[0] === '{' ? jsonObjectEnd(this.buf, 0) : -1;
    const args = close < 0 ? this.buf : this.buf.slice(0, close);
    return args.length > this.sentArgs ? [this.args(args.slice(this.sentArgs))] : [];
  }

  private pushConstrained(delta: string): Delta[] {
    this.buf += delta;
    const out: Delta[] = [];
    for (;;) {
      if (!this.inArgs) {
        const m = HEADER.exec(this.buf);
        if (!m) return out;
        out.push(this.header(JSON.parse(`"${m[1]}"`) as string));
        this.buf = this.buf.slice(m[0].length);
        this.inArgs = true;
        this.sentArgs = 0;
      }
      // a header read before the optional space after `"arguments":` arrived leaves it here: not an argument
      if (this.sentArgs === 0) this.buf = this.buf.trimStart();
      const close = this.buf.indexOf(CLOSE);
      // the arguments end before the call object's own '}'
      const upTo = close >= 0 ? close : Math.max(this.sentArgs, this.buf.length - CLOSE.length);
      if (upTo > this.sentArgs) out.push(this.args(this.buf.slice(this.sentArgs, upTo)));
      this.sentArgs = upTo;
      if (close < 0) return out;
      this.buf = this.buf.slice(close + CLOSE.length);
      this.inArgs = false;
    }
  }

  private content(text: string): Delta[] {
    return text ? [{ content: text }] : [];
  }

  private header(name: string): Delta {
    const index = this.calls.length;
    const call: ToolCall = { id: toolCallId(this.generationId, index), type: 'function', function: { name, arguments: '' } };
    this.calls.push(call);
    return { tool_calls: [{ index, id: call.id, type: 'function', function: { name, arguments: '' } }] };
  }

  private args(fragment: string): Delta {
    const index = this.calls.length - 1;
    this.calls[index].function.arguments += fragment;
    return { tool_calls: [{ index, function: { arguments: fragment } }] };
  }
}

/** Not streamed: the message of a whole answer (content and tool calls), and whether its last call was cut off */
export function answerMessage(plan: ToolPlan | undefined, generationId: string, text: string): { message: { content: string | null; tool_calls?: ToolCall[] }; cut: boolean } {
  if (!plan || plan.mode === 'none') return { message: { content: text }, cut: false };
  const s = new ToolCallStream(plan, generationId);
  let content = '';
  for (const d of [...s.push(text), ...s.end()]) if ('content' in d) content += d.content;
  if (s.calls.length === 0) return { message: { content }, cut: false };
  return { message: { content: content.trim() || null, tool_calls: s.calls }, cut: s.cut };
}
