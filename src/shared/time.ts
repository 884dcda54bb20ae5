/** Timestamps are RFC 3339 UTC with milliseconds, so they also sort as strings. */
export const nowIso = (): string => new Date().toISOString();

/** Today's business date (UTC) as YYYY-MM-DD. */
export const todayDate = (): string => new Date().toISOString().slice(0, 10);

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date between 1900 and 2999 (absurd dates are refused, not stored). */
export function isValidBusinessDate(value: string): boolean {
  const match = datePattern.exec(value);
  if (!match) return false;
  const year = Number(match[1]);
  if (year < 1900 || year > 2999) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
