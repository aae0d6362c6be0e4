// The assembled prompt a GenerationRequested carries (v2): the exact token ids the saga counted,
// so a worker runs them as they are instead of rebuilding them from the conversation.
//
// Token ids are the user's text in another alphabet (anyone with the tokenizer reads them back), so
// they are stored like text: packed into one string that the event store encrypts with the
// conversation's key (eventstore/crypto/field-codec.ts), withheld from exports of erased users
// (streams/privacy.ts), and read back as the erased placeholder once the key is destroyed.
//
// Format: "t1:" + base64url of the ids as unsigned LEB128 varints (1–2 bytes per id for a vocabulary
// under 16,384; 2,048 tokens pack to ~5 KB). The prefix names the format, so anything else (the
// erased placeholder, a future format) is recognised as "not a prompt this build can run".

const PREFIX = 't1:';

export function packTokenIds(ids: readonly number[]): string {
  const bytes: number[] = [];
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`token id ${id} cannot be packed`);
    let v = id;
    while (v >= 0x80) {
      bytes.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
  }
  return PREFIX + Buffer.from(bytes).toString('base64url');
}

// The ids, or null when the string is not a packed prompt (e.g. "[erased]").
export function unpackTokenIds(packed: string): number[] | null {
  if (!packed.startsWith(PREFIX)) return null;
  const body = packed.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) return null;
  const bytes = Buffer.from(body, 'base64url');
  const ids: number[] = [];
  let value = 0;
  let scale = 1;
  for (const b of bytes) {
    value += (b & 0x7f) * scale;
    if (b & 0x80) {
      scale *= 0x80;
      if (scale > 2 ** 35) return null;
    } else {
      ids.push(value);
      value = 0;
      scale = 1;
    }
  }
  return scale === 1 ? ids : null; // a truncated varint is not a prompt
}
