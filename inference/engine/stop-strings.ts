// Stop strings, detected on the decoded text as it streams. Text that might be the beginning of
// a stop string is held back until it is known not to be one, so a stop string is never emitted,
// not even partially; it may span several tokens. When stop strings overlap, the one completed
// first in the text wins (the same for any split of the text into deltas).

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

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
    this.maxLen = Math.max(0, ...this.stops.map((s) => s.length));
  }

  /** Feeds a text delta; returns what can be emitted now. */
  push(delta: string): StopCheck {
    if (this.done) return { emit: '', stopped: true };
    if (this.stops.length === 0) return { emit: delta, stopped: false };
    const text = this.held + delta;
    // the stop string that is complete first in the stream wins (so the result does not depend
    // on how the text was split into deltas); on equal ends, the longest one
    let at = -1;
    let end = Infinity;
    let which = '';
    for (const s of this.stops) {
      const i = text.indexOf(s);
      if (i < 0) continue;
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
    // hold back the longest suffix that is a proper prefix of some stop string
    let keep = 0;
    for (let k = Math.min(this.maxLen - 1, text.length); k > 0; k--) {
      const suffix = text.slice(text.length - k);
      if (this.stops.some((s) => s.startsWith(suffix))) {
        keep = k;
        break;
      }
    }
    // never split a UTF-16 surrogate pair between emitted and held text
    let cut = text.length - keep;
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
    return t;
  }
}
