// Stop strings, detected on the decoded text as it streams. Text that might be the beginning of
// a stop string is held back until it is known not to be one, so a stop string is never emitted,
// not even partially; it may span several tokens. When stop strings overlap, the one completed
// first in the text wins (the same for any split of the text into deltas).
//
// `outsideToolCalls`: stop strings are not looked for inside `<tool_call>` blocks (from the tag to
// the block's end as schemas/tool-call-format.ts defines it). A server-side tool call is a step of
// the turn that its client is never shown; a client's stop ("+") must not cut the calculator's
// "17 + 25" in it, only the text the client reads.
import { TOOL_CALL_OPEN, toolCallBlockAt } from '../../schemas/tool-call-format.ts';

export interface StopCheck {
  /** text that is now safe to emit */
  emit: string;
  /** a stop string was found: emit `emit`, then stop */
  stopped: boolean;
  /** which stop string, if stopped */
  stop?: string;
}

export class StopStringMatcher {
  private held = '';
  private done = false;
  private readonly stops: string[];
  private readonly maxLen: number;
  private readonly outsideToolCalls: boolean;
  private block: string | null = null; // outsideToolCalls: the block being generated, from its `<tool_call>`

  constructor(stops: readonly string[], options: { outsideToolCalls?: boolean } = {}) {
    this.stops = stops.filter((s) => s.length > 0);
    this.maxLen = Math.max(0, ...this.stops.map((s) => s.length));
    this.outsideToolCalls = options.outsideToolCalls === true;
  }

  /** Feeds a text delta; returns what can be emitted now. */
  push(delta: string): StopCheck {
    if (this.done) return { emit: '', stopped: true };
    if (this.stops.length === 0) return { emit: delta, stopped: false };
    if (!this.outsideToolCalls) return this.match(this.held + delta, 0);
    let emit = '';
    let rest = delta;
    for (;;) {
      if (this.block !== null) {
        // inside a call: emitted as it comes; it can only end with the `>` of its closing tag
        const before = this.block.length;
        this.block += rest;
        const b = rest.includes('>') ? toolCallBlockAt(this.block, 0) : null;
        if (!b?.closed) return { emit: emit + rest, stopped: false };
        emit += this.block.slice(before, b.end);
        rest = this.block.slice(b.end);
        this.block = null;
      }
      const text = this.held + rest;
      const open = text.indexOf(TOOL_CALL_OPEN);
      if (open < 0) {
        const r = this.match(text, pendingOpen(text));
        return { ...r, emit: emit + r.emit };
      }
      // the text before the call is final: a stop in it wins, else the call begins
      const r = this.match(text.slice(0, open), 0, true);
      if (r.stopped) return { ...r, emit: emit + r.emit };
      emit += r.emit;
      this.held = '';
      this.block = '';
      rest = text.slice(open);
    }
  }

  // The first stop in `text` that ends before its last `pending` characters (which may still become
  // a `<tool_call>`); with `final`, nothing is held back. Else what cannot be part of a stop (or of the tag).
  private match(text: string, pending: number, final = false): StopCheck {
    // the stop string that is complete first in the stream wins (so the result does not depend
    // on how the text was split into deltas); on equal ends, the longest one
    let at = -1;
    let end = Infinity;
    let which = '';
    const limit = text.length - pending;
    for (const s of this.stops) {
      const i = text.indexOf(s);
      if (i < 0 || i + s.length > limit) continue;
      const e = i + s.length;
      if (e < end || (e === end && s.length > which.length)) {
        at = i;
        end = e;
        which = s;
      }
    }
    if (at >= 0) {
      this.done = true;
      this.held = '';
      return { emit: text.slice(0, at), stopped: true, stop: which };
    }
    if (final) return { emit: text, stopped: false };
    // hold back from the first place a stop string may still complete: an end of the text that begins
    // one, or one that runs into the pending tag (it counts if the tag does not come); and the tag
    let cut = limit;
    for (let i = Math.max(0, limit - this.maxLen + 1); i < limit; i++) {
      const tail = text.slice(i);
      if (this.stops.some((s) => s.startsWith(tail) || text.startsWith(s, i))) {
        cut = i;
        break;
      }
    }
    // never split a UTF-16 surrogate pair between emitted and held text
    if (cut > 0 && cut < text.length) {
      const c = text.charCodeAt(cut - 1);
      if (c >= 0xd800 && c <= 0xdbff) cut -= 1;
    }
    this.held = text.slice(cut);
    return { emit: text.slice(0, cut), stopped: false };
  }

  /** End of generation without a stop: the held text was not a stop string after all. */
  flush(): string {
    const t = this.done ? '' : this.held;
    this.held = '';
    // outsideToolCalls: a held tail that might have begun a `<tool_call>` did not; a stop in it still
    // cuts the text (the generation ends anyway, with its own reason)
    return this.outsideToolCalls && t ? this.match(t, 0, true).emit : t;
  }
}

/** the length of the longest end of `text` that may be the beginning of a `<tool_call>` */
function pendingOpen(text: string): number {
  for (let k = Math.min(TOOL_CALL_OPEN.length - 1, text.length); k > 0; k--) {
    if (TOOL_CALL_OPEN.startsWith(text.slice(text.length - k))) return k;
  }
  return 0;
}
