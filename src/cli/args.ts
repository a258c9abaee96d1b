/**
 * tcpdump's command line: bundled single-letter flags (-nnvvS), options with attached or separate
 * arguments (-c10, -r file), long options (--nano, --json), and the filter expression as the
 * remaining words. tshark's `-T fields -e FIELD` is accepted too: after -T fields, -e takes a field.
 */
import { fs } from '../core/node-fs.js';

export class UsageError extends Error {}

export interface Options {
  read?: string;
  write?: string;
  count?: number;
  n: number; v: number; t: number; x: number; X: number; A: number;
  /** -q count (-qq: tcpdump's ultra quiet); -N: host names without their domain. */
  q: number; N: boolean;
  e: boolean; S: boolean; K: boolean; number: boolean; nano: boolean;
  lineBuffered: boolean; packetBuffered: boolean;
  /** --count: print only the number of packets (tcpdump's --count). */
  countOnly: boolean;
  json: boolean;
  outputType?: string;
  fields: string[];
  filterFile?: string;
  interface?: string;
  listInterfaces: boolean;
  snaplen?: number;
  /** -B: kernel capture buffer, in bytes (the option takes KiB). */
  bufferSize?: number;
  rotateSize?: number; rotateSeconds?: number; rotateCount?: number;
  user?: string;
  help: boolean; version: boolean;
  expression: string[];
}

/** Flags without an argument, and the option field each one counts or sets. */
const FLAGS: Record<string, keyof Options> = {
  n: 'n', v: 'v', t: 't', x: 'x', X: 'X', A: 'A', e: 'e', q: 'q', N: 'N', S: 'S', K: 'K', '#': 'number',
  l: 'lineBuffered', U: 'packetBuffered', D: 'listInterfaces', h: 'help',
};
const COUNTED = new Set(['n', 'v', 't', 'x', 'X', 'A', 'q']);
const WITH_ARG = new Set(['r', 'w', 'c', 'T', 'F', 'i', 's', 'B', 'C', 'G', 'W', 'Z']);

function int(opt: string, s: string, min: number): number {
  if (!/^\d+$/.test(s) || Number(s) < min) throw new UsageError(`invalid argument for -${opt}: '${s}'`);
  return Number(s);
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    n: 0, v: 0, t: 0, x: 0, X: 0, A: 0, q: 0, N: false, e: false, S: false, K: false, number: false, nano: false,
    lineBuffered: false, packetBuffered: false, countOnly: false, json: false, fields: [], listInterfaces: false,
    help: false, version: false, expression: [],
  };
  const setArg = (c: string, val: string): void => {
    switch (c) {
      case 'r': o.read = val; break;
      case 'w': o.write = val; break;
      case 'c': o.count = int(c, val, 1); break;
      case 'T': o.outputType = val; break;
      case 'F': o.filterFile = val; break;
      case 'i': o.interface = val; break;
      case 's': o.snaplen = int(c, val, 0); break;
      case 'B': o.bufferSize = int(c, val, 1) * 1024; break;
      case 'C': o.rotateSize = int(c, val, 1); break;
      case 'G': o.rotateSeconds = int(c, val, 1); break;
      case 'W': o.rotateCount = int(c, val, 1); break;
      case 'Z': o.user = val; break;
      case 'e': o.fields.push(val); break;
    }
  };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '--') { o.expression.push(...argv.slice(k + 1)); break; }
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
      const value = (): string => {
        if (inline !== undefined) return inline;
        if (k + 1 >= argv.length) throw new UsageError(`option --${name} needs an argument`);
        return argv[++k];
      };
      switch (name) {
        case 'nano': o.nano = true; break;
        case 'time-stamp-precision': {
          const p = value();
          if (p !== 'nano' && p !== 'micro') throw new UsageError(`unsupported time stamp precision '${p}'`);
          o.nano = p === 'nano';
          break;
        }
        case 'json': o.json = true; break;
        case 'number': o.number = true; break;
        case 'help': o.help = true; break;
        case 'version': o.version = true; break;
        case 'list-interfaces': o.listInterfaces = true; break;
        case 'snapshot-length': setArg('s', value()); break;
        case 'interface': setArg('i', value()); break;
        case 'buffer-size': setArg('B', value()); break;
        case 'count': o.countOnly = true; break;
        case 'dont-verify-checksums': o.K = true; break;
        case 'packet-buffered': o.packetBuffered = true; break;
        default: throw new UsageError(`unknown option --${name}`);
      }
      continue;
    }
    if (a.length < 2 || a[0] !== '-') { o.expression.push(a); continue; }
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      const takesArg = WITH_ARG.has(c) || (c === 'e' && o.outputType === 'fields');
      if (takesArg) {
        let val = a.slice(j + 1);
        if (!val) {
          if (k + 1 >= argv.length) throw new UsageError(`option requires an argument -- '${c}'`);
          val = argv[++k];
        }
        setArg(c, val);
        break;
      }
      const f = FLAGS[c];
      if (!f) throw new UsageError(`invalid option -- '${c}'`);
      if (COUNTED.has(c)) (o[f] as number)++;
      else (o[f] as boolean) = true;
    }
  }
  return o;
}

/** The filter expression: trailing words, or -F FILE as tcpdump reads it ('#' comments dropped). */
export function filterExpression(opts: Options): string {
  if (opts.filterFile !== undefined) {
    return fs.readFileSync(opts.filterFile, 'utf8').split('\n').map((l) => l.replace(/#.*/, '')).join(' ').trim();
  }
  return opts.expression.join(' ').trim();
}
