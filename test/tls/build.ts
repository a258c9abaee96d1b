/** Builders of TLS bytes for tests: records, handshake messages, hellos with chosen extensions. */

export function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}

export function u24(v: number): number[] {
  return [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

export function record(type: number, version: number, body: number[]): number[] {
  return [type, ...u16(version), ...u16(body.length), ...body];
}

export function handshake(type: number, body: number[]): number[] {
  return [type, ...u24(body.length), ...body];
}

export function ext(type: number, body: number[]): number[] {
  return [...u16(type), ...u16(body.length), ...body];
}

const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

export function sniExt(host: string): number[] {
  const name = ascii(host);
  return ext(0x0000, [...u16(name.length + 3), 0, ...u16(name.length), ...name]);
}

export function alpnExt(protos: Array<string | number[]>): number[] {
  const list = protos.flatMap((p) => {
    const b = typeof p === 'string' ? ascii(p) : p;
    return [b.length, ...b];
  });
  return ext(0x0010, [...u16(list.length), ...list]);
}

export function u16ListExt(type: number, values: number[]): number[] {
  return ext(type, [...u16(values.length * 2), ...values.flatMap(u16)]);
}

export function supportedVersionsExt(versions: number[]): number[] {
  return ext(0x002b, [versions.length * 2, ...versions.flatMap(u16)]);
}

export function pointFormatsExt(formats: number[]): number[] {
  return ext(0x000b, [formats.length, ...formats]);
}

export function clientHello(ciphers: number[], exts: number[][], version = 0x0303): number[] {
  const random = Array.from({ length: 32 }, (_, i) => i);
  const body = [...u16(version), ...random, 0, ...u16(ciphers.length * 2), ...ciphers.flatMap(u16), 1, 0];
  const e = exts.flat();
  return handshake(1, exts.length ? [...body, ...u16(e.length), ...e] : body);
}

export function serverHello(cipher: number, exts: number[][], version = 0x0303): number[] {
  const random = Array.from({ length: 32 }, (_, i) => 255 - i);
  const e = exts.flat();
  return handshake(2, [...u16(version), ...random, 0, ...u16(cipher), 0, ...u16(e.length), ...e]);
}

/** An SSL 2.0 CLIENT-HELLO record (two-byte header) offering the given 3-byte cipher specs. */
export function ssl2ClientHello(version: number, specs: number[], challenge: number[]): number[] {
  const body = [1, ...u16(version), ...u16(specs.length * 3), ...u16(0), ...u16(challenge.length), ...specs.flatMap((s) => [(s >> 16) & 0xff, ...u16(s & 0xffff)]), ...challenge];
  return [0x80 | (body.length >> 8), body.length & 0xff, ...body];
}
