/**
 * strftime(3) in the C locale, local time: what tcpdump -G applies to the -w file name.
 * glibc's conversions, its E/O modifiers (no effect in the C locale) and its flags (- _ 0 ^ #)
 * with an optional field width; an unknown conversion is copied as written, as glibc does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

/** Fields of struct tm for a local time. */
interface Tm {
  year: number; mon: number; mday: number; hour: number; min: number; sec: number;
  wday: number; yday: number; epoch: number; gmtoffMin: number; zone: string;
}

function localTm(epochSec: number): Tm {
  const d = new Date(epochSec * 1000);
  const jan1 = new Date(d.getFullYear(), 0, 1);
  const yday = Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - jan1.getTime()) / 86400000);
  const gmtoffMin = -d.getTimezoneOffset();
  return {
    year: d.getFullYear(), mon: d.getMonth(), mday: d.getDate(), hour: d.getHours(), min: d.getMinutes(),
    sec: d.getSeconds(), wday: d.getDay(), yday, epoch: epochSec, gmtoffMin, zone: zoneAbbreviation(epochSec, gmtoffMin * 60),
  };
}

/**
 * tm_zone: the abbreviation the TZif file (TZ, else /etc/localtime) gives for that time, as the C
 * library reads it; Intl's name ("GMT+1" for CET) only when there is no such file.
 */
function zoneAbbreviation(epochSec: number, utoff: number): string {
  const tz = process.env.TZ;
  const file = tz === undefined ? '/etc/localtime' : path.resolve('/usr/share/zoneinfo', tz.replace(/^:/, ''));
  const abbr = tzifAbbreviation(file, epochSec, utoff);
  if (abbr !== null) return abbr;
  return new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(new Date(epochSec * 1000))
    .find((p) => p.type === 'timeZoneName')?.value ?? '';
}

/** RFC 8536: the local time type in effect at t, or after the last transition the footer's names. */
function tzifAbbreviation(file: string, t: number, utoff: number): string | null {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return null;
  }
  if (b.length < 44 || b.toString('latin1', 0, 4) !== 'TZif') return null;
  const counts = (at: number): number[] => [0, 1, 2, 3, 4, 5].map((k) => b.readUInt32BE(at + 20 + 4 * k));
  let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(0);
  let at = 44;
  let timeSize = 4;
  if (b[4] >= 0x32) {
    // Version 2+: skip the 32-bit block, read the 64-bit one.
    at += timecnt * 4 + timecnt + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(at);
    at += 44;
    timeSize = 8;
  }
  const times = at, idx = times + timecnt * timeSize, types = idx + timecnt, chars = types + typecnt * 6;
  const timeAt = (k: number): number => (timeSize === 8 ? Number(b.readBigInt64BE(times + 8 * k)) : b.readInt32BE(times + 4 * k));
  const name = (type: number): string => {
    const start = chars + b[types + type * 6 + 5];
    return b.toString('latin1', start, b.indexOf(0, start));
  };
  if (timecnt === 0 || t < timeAt(0)) return typecnt > 0 ? name(0) : null;
  if (t < timeAt(timecnt - 1) || timeSize === 4) {
    let k = timecnt - 1;
    while (k > 0 && timeAt(k) > t) k--;
    return name(b[idx + k]);
  }
  // After the last transition: the POSIX TZ string in the footer, "STD offset [DST ...]".
  const footerStart = chars + charcnt + leap * 12 + isstd + isut + 1;
  const footer = b.toString('latin1', footerStart, b.indexOf(0x0a, footerStart));
  const m = /^(<[^>]+>|[A-Za-z]+)([-+]?[\d:]+)(<[^>]+>|[A-Za-z]+)?/.exec(footer);
  if (m === null) return name(b[idx + timecnt - 1]);
  const strip = (z: string): string => z.replace(/^<(.*)>$/, '$1');
  const [h, mi = '0', se = '0'] = m[2].replace(/^[-+]/, '').split(':');
  const stdUtoff = (m[2].startsWith('-') ? 1 : -1) * (Number(h) * 3600 + Number(mi) * 60 + Number(se));
  return m[3] !== undefined && utoff !== stdUtoff ? strip(m[3]) : strip(m[1]);
}

/** ISO 8601 week-based year and week number (glibc's iso_week_days arithmetic). */
function isoWeek(tm: Tm): { year: number; week: number } {
  const isoWeekDays = (yday: number, wday: number): number => {
    const bigEnoughMultipleOf7 = (Math.floor(366 / 7) + 2) * 7;
    return yday - ((yday - wday + 4 + bigEnoughMultipleOf7) % 7) + 3;
  };
  const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  let year = tm.year;
  let days = isoWeekDays(tm.yday, tm.wday);
  if (days < 0) {
    year--;
    days = isoWeekDays(tm.yday + (isLeap(year) ? 366 : 365), tm.wday);
  } else {
    const d = isoWeekDays(tm.yday - (isLeap(year) ? 366 : 365), tm.wday);
    if (d >= 0) {
      year++;
      days = d;
    }
  }
  return { year, week: Math.floor(days / 7) + 1 };
}

/** A number with glibc's padding rules: default pad char and width per conversion, overridden by flags. */
function num(n: number, width: number, pad: '0' | ' ', flag: string, fieldWidth: number): string {
  const s = String(n);
  const w = fieldWidth > 0 ? fieldWidth : width;
  if (flag === '-' || s.length >= w) return s;
  return (flag === '_' ? ' ' : flag === '0' ? '0' : pad).repeat(w - s.length) + s;
}

function text(s: string, flag: string, upper: boolean, fieldWidth: number): string {
  const t = upper ? s.toUpperCase() : s;
  return fieldWidth > t.length ? (flag === '0' ? '0' : ' ').repeat(fieldWidth - t.length) + t : t;
}

/** Formats local time epochSec with a strftime pattern. */
export function strftime(pattern: string, epochSec: number): string {
  const tm = localTm(epochSec);
  const hour12 = tm.hour % 12 === 0 ? 12 : tm.hour % 12;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c !== '%') { out += c; continue; }
    const start = i;
    let flag = '';
    let upper = false;
    while (i + 1 < pattern.length && '-_0^#'.includes(pattern[i + 1])) {
      const f = pattern[++i];
      if (f === '^' || f === '#') upper = true;
      else flag = f;
    }
    let fieldWidth = 0;
    while (i + 1 < pattern.length && pattern[i + 1] >= '0' && pattern[i + 1] <= '9') fieldWidth = fieldWidth * 10 + Number(pattern[++i]);
    if (i + 1 < pattern.length && (pattern[i + 1] === 'E' || pattern[i + 1] === 'O')) i++;
    if (i + 1 >= pattern.length) { out += pattern.slice(start); break; }
    const conv = pattern[++i];
    const n = (v: number, width: number, pad: '0' | ' ' = '0'): string => num(v, width, pad, flag, fieldWidth);
    const t = (s: string): string => text(s, flag, upper, fieldWidth);
    switch (conv) {
      case 'a': out += t(DAYS[tm.wday].slice(0, 3)); break;
      case 'A': out += t(DAYS[tm.wday]); break;
      case 'b': case 'h': out += t(MONTHS[tm.mon].slice(0, 3)); break;
      case 'B': out += t(MONTHS[tm.mon]); break;
      case 'c': out += t(strftime('%a %b %e %H:%M:%S %Y', epochSec)); break;
      case 'C': out += n(Math.floor(tm.year / 100), 2); break;
      case 'd': out += n(tm.mday, 2); break;
      case 'D': out += t(strftime('%m/%d/%y', epochSec)); break;
      case 'e': out += n(tm.mday, 2, ' '); break;
      case 'F': out += t(strftime('%Y-%m-%d', epochSec)); break;
      case 'G': out += n(isoWeek(tm).year, 1); break;
      case 'g': out += n(((isoWeek(tm).year % 100) + 100) % 100, 2); break;
      case 'H': out += n(tm.hour, 2); break;
      case 'I': out += n(hour12, 2); break;
      case 'j': out += n(tm.yday + 1, 3); break;
      case 'k': out += n(tm.hour, 2, ' '); break;
      case 'l': out += n(hour12, 2, ' '); break;
      case 'm': out += n(tm.mon + 1, 2); break;
      case 'M': out += n(tm.min, 2); break;
      case 'n': out += '\n'; break;
      case 'p': out += t(tm.hour < 12 ? 'AM' : 'PM'); break;
      case 'P': out += text(tm.hour < 12 ? 'am' : 'pm', flag, false, fieldWidth); break;
      case 'r': out += t(strftime('%I:%M:%S %p', epochSec)); break;
      case 'R': out += t(strftime('%H:%M', epochSec)); break;
      case 's': out += n(tm.epoch, 1); break;
      case 'S': out += n(tm.sec, 2); break;
      case 't': out += '\t'; break;
      case 'T': out += t(strftime('%H:%M:%S', epochSec)); break;
      case 'u': out += n(tm.wday === 0 ? 7 : tm.wday, 1); break;
      case 'U': out += n(Math.floor((tm.yday - tm.wday + 7) / 7), 2); break;
      case 'V': out += n(isoWeek(tm).week, 2); break;
      case 'w': out += n(tm.wday, 1); break;
      case 'W': out += n(Math.floor((tm.yday - ((tm.wday + 6) % 7) + 7) / 7), 2); break;
      case 'x': out += t(strftime('%m/%d/%y', epochSec)); break;
      case 'X': out += t(strftime('%H:%M:%S', epochSec)); break;
      case 'y': out += n(((tm.year % 100) + 100) % 100, 2); break;
      case 'Y': out += n(tm.year, 1); break;
      case 'z': {
        const off = Math.abs(tm.gmtoffMin);
        out += (tm.gmtoffMin < 0 ? '-' : '+') + n(Math.floor(off / 60) * 100 + (off % 60), 4);
        break;
      }
      case 'Z': out += t(tm.zone); break;
      case '%': out += '%'; break;
      default: out += pattern.slice(start, i + 1);
    }
  }
  return out;
}
