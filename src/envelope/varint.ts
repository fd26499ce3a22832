/** Unsigned LEB128 varints (protobuf's), for the envelope header and KPL aggregates. */

/** Bytes `value` takes as a varint. */
export function varintLength(value: number): number {
  let n = 1;
  for (let v = value; v >= 128; v = Math.floor(v / 128)) n++;
  return n;
}

/** Write `value` at `offset`; returns the offset after it. */
export function writeVarint(out: Buffer, offset: number, value: number): number {
  let v = value;
  let o = offset;
  while (v >= 128) {
    out[o++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[o++] = v;
  return o;
}
