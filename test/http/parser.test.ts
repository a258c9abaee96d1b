/**
 * The HTTP/1.x stream parser on crafted conversations: framing by Content-Length, chunked coding and
 * connection close; pipelining and pairing; interim responses and Expect: 100-continue; HEAD, 204,
 * 304; CONNECT and Upgrade; gaps; every split of the bytes into chunks gives the same messages; and
 * hostile input never throws and never holds more than the limits.
 */
import { describe, expect, it } from 'vitest';
import { HttpConnectionParser, MAX_HEAD } from '../../src/http/parser.js';
import { messageLayer } from '../../dissectors/http.js';
import { multipartBoundary, MultipartScanner, parseHead, sniffHttp, type HttpMessage } from '../../src/http/message.js';
import type { SegmentTime } from '../../src/tcp/reassembler.js';

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** One direction's bytes at a frame number. */
type Step = { dir: 0 | 1; data: string; frame: number } | { dir: 0 | 1; gap: number; frame: number } | { dir: 0 | 1; end: true; frame: number };

function t(frame: number): SegmentTime {
  return { sec: 1000 + frame, nsec: 0, frame };
}

/** A summary of each message reported, in order. */
function summary(m: HttpMessage, at: number): string {
  const what = m.isRequest ? `${m.method} ${m.uri}` : `${m.status}`;
  const peer = m.peer === null ? '-' : m.peer.isRequest ? `${m.peer.method} ${m.peer.uri}` : `${m.peer.status}`;
  return `${m.dir} ${what} @${at} ${m.framing} head=${m.headLen} body=${m.bodyLen} content=${m.contentLen}` +
    `${m.complete ? '' : ' incomplete'}${m.malformed ? ' malformed' : ''}${m.reordered ? ' reordered' : ''}` +
    `${m.missing ? ` missing=${m.missing}` : ''} peer=${peer}`;
}

function run(steps: Step[], split: (s: string) => string[] = (s) => [s], continuations = false): string[] {
  const out: string[] = [];
  const p = new HttpConnectionParser(7, {
    message: (m, time) => out.push(summary(m, time.frame)),
    continuation: continuations ? (dir, time, after) => out.push(`${dir} continuation @${time.frame}${after ? ' after a message' : ''}`) : undefined,
  });
  let seq = 0;
  for (const s of steps) {
    if ('data' in s) {
      for (const piece of split(s.data)) {
        p.chunk({ dir: s.dir, seq, bytes: enc(piece), time: t(s.frame) });
        seq += piece.length;
      }
    } else if ('gap' in s) {
      p.event({ type: 'gap', dir: s.dir, seq, length: s.gap, reason: 'end', time: t(s.frame) });
    } else p.complete(s.dir, 'fin', t(s.frame));
  }
  return out;
}

const GET = 'GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n';
const OK_LEN = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello';
const OK_CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n';

describe('message heads', () => {
  it('reads request and status lines and header fields', () => {
    const h = parseHead(enc(GET), GET.length)!;
    expect(h).toMatchObject({ isRequest: true, method: 'GET', uri: '/a', version: 'HTTP/1.1' });
    expect(h.headers).toEqual([['Host', 'example.com'], ['User-Agent', 't/1']]);
    const r = parseHead(enc('HTTP/1.0 404 Not Found\nServer:  x  \n\n'), 38)!;
    expect(r).toMatchObject({ isRequest: false, status: 404, reason: 'Not Found', version: 'HTTP/1.0' });
    expect(r.headers).toEqual([['Server', 'x  ']]);
    expect(parseHead(enc('FOO / HTTP/1.1\r\n\r\n'), 18)).toBeNull();
    expect(parseHead(enc('HTTP/1.1 2x0 OK\r\n\r\n'), 19)).toBeNull();
  });

  it('sniffs as Wireshark does: a status line, or a request line ending in HTTP/1.x', () => {
    expect(sniffHttp(enc('HTTP/1.1 200 OK\r\n'))).toBe(true);
    expect(sniffHttp(enc(GET))).toBe(true);
    expect(sniffHttp(enc('GET /very-long-uri'))).toBe(true);
    expect(sniffHttp(enc('GET / SIP/2.0\r\n'))).toBe(false);
    expect(sniffHttp(enc('\x16\x03\x01\x02\x00'))).toBe(false);
    expect(sniffHttp(enc('get / HTTP/1.1\r\n'))).toBe(false);
  });
});

describe('framing and pairing', () => {
  it('frames bodies by Content-Length and by chunked coding, and pairs responses in order', () => {
    expect(run([{ dir: 0, data: GET, frame: 1 }, { dir: 1, data: OK_LEN, frame: 2 }, { dir: 0, data: GET, frame: 3 }, { dir: 1, data: OK_CHUNKED, frame: 4 }])).toEqual([
      '0 GET /a @1 none head=55 body=0 content=0 peer=-',
      '1 200 @2 length head=64 body=5 content=5 peer=GET /a',
      '0 GET /a @3 none head=55 body=0 content=0 peer=-',
      '1 200 @4 chunked head=47 body=67 content=31 peer=GET /a',
    ]);
  });

  it('gives the same messages however the bytes are split into chunks', () => {
    const steps: Step[] = [
      { dir: 0, data: GET + 'POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc', frame: 1 },
      { dir: 1, data: OK_CHUNKED + OK_LEN, frame: 2 },
    ];
    const whole = run(steps);
    expect(whole).toHaveLength(4);
    const longest = Math.max(...steps.map((s) => ('data' in s ? s.data.length : 0)));
    for (let cut = 1; cut < longest; cut++) {
      expect(run(steps, (s) => (cut < s.length ? [s.slice(0, cut), s.slice(cut)] : [s]))).toEqual(whole);
    }
    expect(run(steps, (s) => [...s])).toEqual(whole);
  });

  it('handles pipelined requests and HEAD, 204 and 304 responses without bodies', () => {
    const reqs = 'HEAD /h HTTP/1.1\r\n\r\nGET /n HTTP/1.1\r\n\r\nGET /m HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n';
    const resps = 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n' +
      'HTTP/1.1 304 Not Modified\r\n\r\n' + 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    const got = run([{ dir: 0, data: reqs, frame: 1 }, { dir: 1, data: resps, frame: 2 }]);
    expect(got.filter((s) => s.startsWith('1 '))).toEqual([
      '1 200 @2 none head=41 body=0 content=0 peer=HEAD /h',
      '1 204 @2 none head=46 body=0 content=0 peer=GET /n',
      '1 304 @2 none head=29 body=0 content=0 peer=GET /m',
      '1 200 @2 length head=38 body=2 content=2 peer=GET /x',
    ]);
  });

  it('reads a body until the connection closes when nothing else delimits it', () => {
    expect(run([{ dir: 0, data: GET, frame: 1 }, { dir: 1, data: 'HTTP/1.0 200 OK\r\n\r\nsome', frame: 2 }, { dir: 1, data: 'thing', frame: 3 }, { dir: 1, end: true, frame: 4 }]))
      .toEqual(['0 GET /a @1 none head=55 body=0 content=0 peer=-', '1 200 @4 close head=19 body=9 content=9 peer=GET /a']);
  });

  it('Expect: 100-continue: the interim response is its own message and the request still gets its final one', () => {
    const head = 'POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n';
    const got = run([
      { dir: 0, data: head, frame: 1 },
      { dir: 1, data: 'HTTP/1.1 100 Continue\r\n\r\n', frame: 2 },
      { dir: 0, data: 'data', frame: 3 },
      { dir: 1, data: 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n', frame: 4 },
    ]);
    expect(got).toEqual([
      '1 100 @2 none head=25 body=0 content=0 peer=POST /up',
      // Reported when its body ends, before the final response came.
      '0 POST /up @3 length head=62 body=4 content=4 peer=-',
      '1 201 @4 none head=43 body=0 content=0 peer=POST /up',
    ]);
  });

  it('Expect: 100-continue answered with a final status: the body never sent does not swallow the next request', () => {
    const got = run([
      { dir: 0, data: 'PUT /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n', frame: 1 },
      { dir: 1, data: 'HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n', frame: 2 },
      { dir: 0, data: GET, frame: 3 },
      { dir: 1, data: OK_LEN, frame: 4 },
    ]);
    expect(got).toEqual([
      '1 417 @2 none head=54 body=0 content=0 peer=PUT /big',
      '0 PUT /big @3 length head=67 body=0 content=0 peer=417',
      '0 GET /a @3 none head=55 body=0 content=0 peer=-',
      '1 200 @4 length head=64 body=5 content=5 peer=GET /a',
    ]);
  });

  it('stops at a tunnel: CONNECT answered 200, and 101 Switching Protocols', () => {
    const got = run([
      { dir: 0, data: 'CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n', frame: 1 },
      { dir: 1, data: 'HTTP/1.1 200 Connection established\r\n\r\n', frame: 2 },
      { dir: 0, data: '\x16\x03\x01\x00\x05hello' + GET, frame: 3 },
      { dir: 1, data: OK_LEN, frame: 4 },
    ]);
    expect(got).toEqual(['0 CONNECT h:443 @1 none head=39 body=0 content=0 peer=-', '1 200 @2 tunnel head=39 body=0 content=0 peer=CONNECT h:443']);
    const up = run([
      { dir: 0, data: 'GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n', frame: 1 },
      { dir: 1, data: 'HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello', frame: 2 },
      { dir: 0, data: GET, frame: 3 },
    ]);
    expect(up).toHaveLength(2);
  });
});

describe('gaps', () => {
  it('skips a gap inside a body of known length and keeps framing', () => {
    const got = run([
      { dir: 0, data: GET, frame: 1 },
      { dir: 1, data: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01', frame: 2 },
      { dir: 1, gap: 5, frame: 3 },
      { dir: 1, data: '789', frame: 4 },
      { dir: 0, data: GET, frame: 5 },
      { dir: 1, data: OK_LEN, frame: 6 },
    ]);
    expect(got).toEqual([
      '0 GET /a @1 none head=55 body=0 content=0 peer=-',
      '1 200 @4 length head=39 body=10 content=10 missing=5 peer=GET /a',
      '0 GET /a @5 none head=55 body=0 content=0 peer=-',
      '1 200 @6 length head=64 body=5 content=5 peer=GET /a',
    ]);
  });

  it('gives up on a message cut by a gap in its head, and resumes at a chunk that starts a message', () => {
    const got = run([
      { dir: 0, data: 'GET /lost HTTP/1.1\r\nHo', frame: 1 },
      { dir: 0, gap: 30, frame: 2 },
      { dir: 0, data: 'tail of something\r\n\r\n', frame: 3 },
      { dir: 0, data: GET, frame: 4 },
      { dir: 1, data: OK_LEN, frame: 5 },
    ]);
    expect(got).toEqual(['0 GET /a @4 none head=55 body=0 content=0 peer=-', '1 200 @5 length head=64 body=5 content=5 peer=GET /a']);
  });

  it('after requests and responses were lost, pairs the next response with the latest request before it, as Wireshark does', () => {
    const got = run([
      { dir: 0, data: GET, frame: 1 },
      { dir: 1, data: OK_LEN, frame: 2 },
      { dir: 0, gap: 55, frame: 3 },
      { dir: 0, data: 'GET /b HTTP/1.1\r\n\r\n', frame: 4 },
      { dir: 1, gap: 64, frame: 5 },
      { dir: 1, data: OK_LEN, frame: 6 },
    ]);
    expect(got).toEqual([
      '0 GET /a @1 none head=55 body=0 content=0 peer=-',
      '1 200 @2 length head=64 body=5 content=5 peer=GET /a',
      '0 GET /b @4 none head=19 body=0 content=0 peer=-',
      '1 200 @6 length head=64 body=5 content=5 peer=GET /b',
    ]);
  });

  it('after a gap in the responses, pairs no response with a request sent after it began', () => {
    const got = run([
      { dir: 0, data: GET, frame: 1 },
      { dir: 1, data: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n', frame: 2 },
      { dir: 1, gap: 100, frame: 3 },
      { dir: 1, data: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', frame: 4 },
      { dir: 0, data: GET, frame: 5 },
    ]);
    expect(got).toEqual([
      '0 GET /a @1 none head=55 body=0 content=0 peer=-',
      '1 200 @3 chunked head=47 body=4 content=0 incomplete missing=100 peer=GET /a',
      '1 200 @4 none head=38 body=0 content=0 peer=-',
      '0 GET /a @5 none head=55 body=0 content=0 peer=-',
    ]);
  });
});

describe('continuations (Wireshark shows bytes that start no message as data)', () => {
  const steps = (list: Array<[0 | 1, string, number]>): Step[] => list.map(([dir, data, frame]) => ({ dir, data, frame }));
  const heads = (out: string[]) => out.map((l) => l.replace(/ head=.*/, ''));

  it('a status line Wireshark does not know (lower case) on a connection with HTTP, and the segments after it', () => {
    const out = run(steps([[0, GET, 1], [1, 'http/1.1 200 OK\r\nServer: x\r\n\r\n', 2], [1, 'more\r\n', 3], [1, OK_LEN, 4]]), undefined, true);
    expect(heads(out)).toEqual(['0 GET /a @1 none', '1 continuation @2', '1 continuation @3', '1 200 @4 length']);
  });

  it('bytes after a message: in the same call when the message began in the segment, else a call of their own', () => {
    expect(heads(run(steps([[0, GET + '\0\0\0\n', 1]]), undefined, true))).toEqual(['0 GET /a @1 none', '0 continuation @1 after a message']);
    // interleaved-http-entity.pcap: a body then a stray LF, the response begun in an earlier segment.
    const out = run(steps([[0, GET, 1], [1, OK_LEN.slice(0, 20), 2], [1, OK_LEN.slice(20) + '\n', 3]]), undefined, true);
    expect(heads(out)).toEqual(['0 GET /a @1 none', '1 200 @3 length', '1 continuation @3']);
  });

  it('a start line that is not HTTP\'s is a continuation from its start', () => {
    const out = run(steps([[0, GET + 'FOO /x HTTP/1.1\r\n\r\n', 1]]), undefined, true);
    expect(heads(out)).toEqual(['0 GET /a @1 none', '0 continuation @1 after a message']);
  });

  it('after a 101 to a protocol Wireshark has no dissector for, every segment either way; none after a WebSocket upgrade', () => {
    const up = (proto: string) => 'GET /attach HTTP/1.1\r\nUpgrade: ' + proto + '\r\n\r\n';
    const ok = (proto: string) => 'HTTP/1.1 101 UPGRADED\r\nUpgrade: ' + proto + '\r\nConnection: Upgrade\r\n\r\n';
    const conv = (proto: string) => steps([[0, up(proto), 1], [1, ok(proto) + '\x01', 2], [1, '\x02\x03', 3], [0, 'x', 4]]);
    expect(run(conv('tcp'), undefined, true).filter((l) => l.includes('continuation'))).toEqual([
      '1 continuation @2 after a message', '1 continuation @3', '0 continuation @4',
    ]);
    expect(run(conv('websocket'), undefined, true).some((l) => l.includes('continuation'))).toBe(false);
  });

  it('none before any message on the connection, and none for bytes after a gap', () => {
    expect(run(steps([[0, '\0', 1], [0, 'junk\r\n', 2], [0, GET, 3]]), undefined, true).map((l) => l.slice(0, 12))).toEqual(['0 GET /a @3 ']);
    const gap: Step[] = [{ dir: 0, data: GET, frame: 1 }, { dir: 1, data: OK_LEN.slice(0, 10), frame: 2 }, { dir: 1, gap: 30, frame: 3 }, { dir: 1, data: 'lo', frame: 4 }];
    expect(run(gap, undefined, true).some((l) => l.includes('continuation'))).toBe(false);
  });
});

describe('multipart bodies (Wireshark\'s mime_multipart: one protocol per part)', () => {
  const body = 'preamble\r\n--b0\r\nContent-Disposition: form-data; name="a"\r\n\r\nx--b0 not a delimiter\r\n' +
    '--b0\r\ncontent-type:  text/plain \r\n\r\ny\r\n--b0--\r\n--b0\r\nepilogue\r\n';

  it('finds the parts and their types at any split of the body, from the quoted or bare boundary', () => {
    expect(multipartBoundary('multipart/form-data; boundary="b0"')).toBe('b0');
    expect(multipartBoundary('Multipart/byteranges; boundary=b0; x=1')).toBe('b0');
    expect(multipartBoundary('text/plain; boundary=b0')).toBeNull();
    const bytes = enc(body);
    for (let cut = 0; cut <= bytes.length; cut += 7) {
      const m = new MultipartScanner('b0');
      m.feed(bytes, 0, cut);
      m.feed(bytes, cut, bytes.length);
      expect(m.parts).toEqual(['', 'text/plain']);
    }
  });

  it('names bodies as tshark 4.0 does (checked against it): octet-stream as data, message/rfc822 as imf, multipart per part', () => {
    const named = (type: string, parts: string[] | null = null): string => {
      const head = enc(`HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\n\r\n`);
      const m = parseHead(head, head.length)!;
      return messageLayer({ ...m, contentLen: 1, parts } as HttpMessage).protocols;
    };
    expect(named('Application/Octet-Stream; x=1')).toBe('http:data');
    expect(named('application/pdf')).toBe('http:media');
    expect(named('message/rfc822')).toBe('http:imf');
    expect(named('multipart/byteranges; boundary=b', ['application/octet-stream', '', 'text/plain', 'application/pdf'])).toBe(
      'http:mime_multipart:data:data:data-text-lines:data');
  });

  it('a message carries its parts once its body ended', () => {
    const req = `POST /f HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b0\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const parts: Array<string[] | null> = [];
    const p = new HttpConnectionParser(1, { message: (m) => parts.push(m.parts) });
    p.chunk({ dir: 0, seq: 0, bytes: enc(req.slice(0, 90)), time: t(1) });
    p.chunk({ dir: 0, seq: 90, bytes: enc(req.slice(90)), time: t(2) });
    expect(parts).toEqual([['', 'text/plain']]);
  });
});

describe('bounded pairing', () => {
  it('forgets the oldest of too many unanswered requests, and their responses pair with nothing, not with later requests', () => {
    const n = 1100;
    let reqs = '';
    let resps = '';
    for (let k = 0; k < n; k++) {
      reqs += `GET /${k} HTTP/1.1\r\n\r\n`;
      resps += `HTTP/1.1 200 r${k}\r\nContent-Length: 0\r\n\r\n`;
    }
    const pairs: string[] = [];
    const p = new HttpConnectionParser(0, { message: (m) => { if (!m.isRequest) pairs.push(`${m.peer?.uri ?? '-'} ${m.reason}`); } });
    p.chunk({ dir: 0, seq: 0, bytes: enc(reqs), time: t(1) });
    p.chunk({ dir: 1, seq: 0, bytes: enc(resps), time: t(2) });
    expect(pairs).toHaveLength(n);
    const unpaired = pairs.filter((x) => x.startsWith('- '));
    expect(unpaired.length).toBe(n - 1024);
    for (let k = n - 1024; k < n; k++) expect(pairs[k]).toBe(`/${k} r${k}`);
  });
});

describe('reordering', () => {
  it('marks a message whose bytes were captured out of order (a retransmission filled a hole before buffered bytes)', () => {
    // Frame 3's bytes were held for the hole that frame 4's retransmission filled: delivered 4, then 3.
    expect(run([
      { dir: 0, data: GET, frame: 1 },
      { dir: 1, data: 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab', frame: 2 },
      { dir: 1, data: 'cd', frame: 4 },
      { dir: 1, data: 'ef', frame: 3 },
      { dir: 0, data: GET, frame: 5 },
      { dir: 1, data: OK_LEN, frame: 6 },
    ])).toEqual([
      '0 GET /a @1 none head=55 body=0 content=0 peer=-',
      '1 200 @3 length head=38 body=6 content=6 reordered peer=GET /a',
      '0 GET /a @5 none head=55 body=0 content=0 peer=-',
      '1 200 @6 length head=64 body=5 content=5 peer=GET /a',
    ]);
  });
});

describe('hostile input', () => {
  function lcg(seed: number): () => number {
    let x = seed >>> 0;
    return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  }

  it('never throws on random bytes, random mutations of real conversations, or random splits and gaps', () => {
    const rnd = lcg(12345);
    const base = [GET, OK_CHUNKED, 'POST /p HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc', 'HTTP/1.1 100 Continue\r\n\r\n', OK_LEN];
    for (let round = 0; round < 3000; round++) {
      const p = new HttpConnectionParser(0, { message() {} });
      for (let k = 0; k < 8; k++) {
        const dir = (rnd() < 0.5 ? 0 : 1) as 0 | 1;
        let bytes: Uint8Array;
        if (rnd() < 0.3) bytes = Uint8Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256));
        else {
          bytes = enc(base[Math.floor(rnd() * base.length)]);
          for (let m = Math.floor(rnd() * 4); m > 0; m--) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
        }
        const cut = Math.floor(rnd() * (bytes.length + 1));
        p.chunk({ dir, seq: 0, bytes: bytes.subarray(0, cut), time: t(k) });
        if (rnd() < 0.1) p.event({ type: 'gap', dir, seq: 0, length: 1 + Math.floor(rnd() * 100), reason: 'end', time: t(k) });
        p.chunk({ dir, seq: 0, bytes: bytes.subarray(cut), time: t(k) });
      }
      p.complete(0, 'fin', t(9));
      p.complete(1, 'rst', null);
    }
  });

  it('gives up on a head longer than MAX_HEAD, on absurd chunk sizes and on bad lengths', () => {
    const huge = 'GET / HTTP/1.1\r\n' + 'X: y\r\n'.repeat(MAX_HEAD / 6 + 10) + '\r\n';
    expect(run([{ dir: 0, data: huge, frame: 1 }, { dir: 0, data: GET, frame: 2 }])).toEqual(['0 GET /a @2 none head=55 body=0 content=0 peer=-']);
    expect(run([{ dir: 1, data: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n', frame: 1 }]))
      .toEqual(['1 200 @1 chunked head=47 body=13 content=0 incomplete malformed peer=-']);
    expect(run([{ dir: 1, data: 'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello', frame: 1 }]))
      .toEqual(['1 200 @1 none head=41 body=0 content=0 incomplete malformed peer=-']);
  });
});
