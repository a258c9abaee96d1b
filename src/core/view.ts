/**
 * Bounds-checked reads over captured bytes: tcpdump's GET_* macros.
 * A read past the captured end throws OutOfBounds, which the decode loop turns
 * into a *truncated* mark on the layer ("[|proto]"); dissector code stays linear.
 */

/** Thrown (not an Error: no stack capture on the hot path) when a read passes the captured end. */
export class OutOfBounds {
  constructor(readonly at: number, readonly need: number) {}
}

export class ByteView {
  /** buf[start, end) are the captured bytes this view may read; offsets are relative to start. */
  constructor(readonly buf: Uint8Array, readonly start: number, readonly end: number) {}

  static of(buf: Uint8Array): ByteView {
    return new ByteView(buf, 0, buf.length);
  }

  get length(): number {
    return this.end - this.start;
  }

  /** True when n bytes at offset o were captured. */
  has(o: number, n: number): boolean {
    return o >= 0 && this.start + o + n <= this.end;
  }

  check(o: number, n: number): void {
    if (o < 0 || this.start + o + n > this.end) throw new OutOfBounds(this.start + o, n);
  }

  u8(o: number): number {
    const i = this.start + o;
    if (o < 0 || i >= this.end) throw new OutOfBounds(i, 1);
    return this.buf[i];
  }

  u16(o: number): number {
    const i = this.start + o;
    if (o < 0 || i + 2 > this.end) throw new OutOfBounds(i, 2);
    return (this.buf[i] << 8) | this.buf[i + 1];
  }

  u24(o: number): number {
    const i = this.start + o;
    if (o < 0 || i + 3 > this.end) throw new OutOfBounds(i, 3);
    return (this.buf[i] << 16) | (this.buf[i + 1] << 8) | this.buf[i + 2];
  }

  u32(o: number): number {
    const i = this.start + o;
    if (o < 0 || i + 4 > this.end) throw new OutOfBounds(i, 4);
    return ((this.buf[i] << 24) | (this.buf[i + 1] << 16) | (this.buf[i + 2] << 8) | this.buf[i + 3]) >>> 0;
  }

  u16le(o: number): number {
    const i = this.start + o;
    if (o < 0 || i + 2 > this.end) throw new OutOfBounds(i, 2);
    return this.buf[i] | (this.buf[i + 1] << 8);
  }

  u32le(o: number): number {
    const i = this.start + o;
    if (o < 0 || i + 4 > this.end) throw new OutOfBounds(i, 4);
    return (this.buf[i] | (this.buf[i + 1] << 8) | (this.buf[i + 2] << 16) | (this.buf[i + 3] << 24)) >>> 0;
  }

  /** n bytes at o, as a subarray (no copy). */
  bytes(o: number, n: number): Uint8Array {
    const i = this.start + o;
    if (o < 0 || n < 0 || i + n > this.end) throw new OutOfBounds(i, n);
    return this.buf.subarray(i, i + n);
  }

  /** The captured part of [o, o+n): never throws, clipped to what was captured. */
  slice(o: number, n: number = this.end - this.start - o): ByteView {
    const s = Math.min(this.start + Math.max(o, 0), this.end);
    const e = Math.min(s + Math.max(n, 0), this.end);
    return new ByteView(this.buf, s, e);
  }
}
