// The protobuf wire format, just what the paged rewrite (paged-model.ts) needs: fields parsed
// without a schema (so the weights pass through as the bytes they were), and builders for the few
// ONNX messages it adds (nodes, int attributes, value infos, int64 initializers). No onnx.proto,
// no dependency: field numbers are onnx.proto's, named where used.

export interface Field {
  no: number;
  wt: number;
  /** the whole field, tag included */
  raw: Uint8Array;
  /** payload of a length-delimited field */
  body?: Uint8Array;
  /** value of a varint field */
  int?: bigint;
}

export function readVarint(b: Uint8Array, pos: number): [bigint, number] {
  let x = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated varint');
    const c = b[pos++];
    x |= BigInt(c & 0x7f) << shift;
    if ((c & 0x80) === 0) return [x, pos];
    shift += 7n;
  }
}

export function parseFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < b.length) {
    const start = pos;
    const [tag, p1] = readVarint(b, pos);
    pos = p1;
    const no = Number(tag >> 3n);
    const wt = Number(tag & 7n);
    const f: Field = { no, wt, raw: b };
    if (wt === 0) {
      const [v, p2] = readVarint(b, pos);
      f.int = v;
      pos = p2;
    } else if (wt === 2) {
      const [len, p2] = readVarint(b, pos);
      f.body = b.subarray(p2, p2 + Number(len));
      pos = p2 + Number(len);
    } else if (wt === 1) pos += 8;
    else if (wt === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wt}`);
    if (pos > b.length) throw new Error('truncated field');
    f.raw = b.subarray(start, pos);
    out.push(f);
  }
  return out;
}

export function varint(x: number | bigint): number[] {
  let v = BigInt(x);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let c = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) c |= 0x80;
    out.push(c);
  } while (v > 0n);
  return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function lenField(no: number, body: Uint8Array): Uint8Array {
  const head = Uint8Array.from([...varint((no << 3) | 2), ...varint(body.length)]);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
export const strField = (no: number, s: string) => lenField(no, enc.encode(s));
export const intField = (no: number, v: number) => Uint8Array.from([...varint(no << 3), ...varint(v)]);
export function cat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
export const str = (f: Field) => dec.decode(f.body!);

// ONNX messages (onnx.proto field numbers)
export const TENSOR_FLOAT = 1;
export const TENSOR_INT64 = 7;
export const ATTR_INT = 2;
export const ATTR_INTS = 7;

export function valueInfo(name: string, elemType: number, dims: (string | number)[]): Uint8Array {
  const dimMsgs = dims.map((d) => lenField(1, typeof d === 'number' ? intField(1, d) : strField(2, d)));
  const shape = lenField(2, cat(dimMsgs));
  const tensorType = lenField(1, cat([intField(1, elemType), shape]));
  return cat([strField(1, name), lenField(2, tensorType)]);
}

export function node(op: string, inputs: string[], outputs: string[], name: string, intAttrs: Record<string, number> = {}): Uint8Array {
  const parts = [...inputs.map((i) => strField(1, i)), ...outputs.map((o) => strField(2, o)), strField(3, name), strField(4, op)];
  for (const [k, v] of Object.entries(intAttrs)) parts.push(lenField(5, cat([strField(1, k), intField(3, v), intField(20, ATTR_INT)])));
  return cat(parts);
}

export function intsAttr(name: string, vals: number[]): Uint8Array {
  return lenField(5, cat([strField(1, name), ...vals.map((v) => intField(8, v)), intField(20, ATTR_INTS)]));
}

/** an int64 initializer (TensorProto: dims 1, data_type 2, name 8, raw_data 9) */
export function int64Initializer(name: string, vals: number[]): Uint8Array {
  const raw = new Uint8Array(vals.length * 8);
  const dv = new DataView(raw.buffer);
  vals.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return lenField(5, cat([intField(1, vals.length), intField(2, TENSOR_INT64), strField(8, name), lenField(9, raw)]));
}

export interface NodeInfo {
  raw: Uint8Array;
  op: string;
  inputs: string[];
  outputs: string[];
  fields: Field[];
}

export function parseNode(f: Field): NodeInfo {
  const fields = parseFields(f.body!);
  return {
    raw: f.raw,
    op: str(fields.find((x) => x.no === 4)!),
    inputs: fields.filter((x) => x.no === 1).map(str),
    outputs: fields.filter((x) => x.no === 2).map(str),
    fields,
  };
}

export function intsOf(n: NodeInfo, attr: string): number[] | null {
  for (const f of n.fields) {
    if (f.no !== 5) continue;
    const a = parseFields(f.body!);
    const name = a.find((x) => x.no === 1);
    if (!name || str(name) !== attr) continue;
    const out: number[] = [];
    for (const x of a) {
      if (x.no === 8 && x.wt === 0) out.push(Number(BigInt.asIntN(64, x.int!)));
      if (x.no === 8 && x.wt === 2) {
        // packed
        let p = 0;
        while (p < x.body!.length) {
          const [v, np] = readVarint(x.body!, p);
          out.push(Number(BigInt.asIntN(64, v)));
          p = np;
        }
      }
    }
    return out;
  }
  return null;
}
