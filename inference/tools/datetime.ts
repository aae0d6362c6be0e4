import { ArithmeticError } from './rational.ts';

// The current date and time in an IANA time zone (default UTC), from the clock it is handed.
export function currentDateTime(now: Date, timezone = 'UTC'): { iso: string; timezone: string; date: string; time: string; weekday: string; utcOffset: string } {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
      hourCycle: 'h23', weekday: 'long', timeZoneName: 'longOffset',
    }).formatToParts(now);
  } catch {
    throw new ArithmeticError(`unknown time zone "${timezone}" (use an IANA name such as Europe/Paris)`);
  }
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value])) as Record<string, string>;
  const offset = (p.timeZoneName ?? 'GMT').replace(/^GMT/, '') || '+00:00';
  const date = `${p.year}-${p.month}-${p.day}`;
  const time = `${p.hour}:${p.minute}:${p.second}`;
  return { iso: `${date}T${time}${offset}`, timezone, date, time, weekday: p.weekday!, utcOffset: offset };
}
