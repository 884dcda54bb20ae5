/** Timestamps are RFC 3339 UTC with milliseconds, so they also sort as strings. */
export const nowIso = (): string => new Date().toISOString();

/** Today's business date (UTC) as YYYY-MM-DD. */
export const todayDate = (): string => new Date().toISOString().slice(0, 10);

/**
 * Where use cases read the time. Created once at composition (src/http/app.ts) and passed in,
 * so no use case calls `new Date()` itself and a test can fix the time (fixedClock).
 */
export interface Clock {
  now(): Date;
  /** RFC 3339 UTC timestamp with milliseconds (created_at, updated_at, finalized_at, …). */
  nowIso(): string;
  /** Today's business date (UTC) as YYYY-MM-DD (issue dates). */
  today(): string;
}

export function clockFrom(now: () => Date): Clock {
  return {
    now,
    nowIso: () => now().toISOString(),
    today: () => now().toISOString().slice(0, 10),
  };
}

export const systemClock: Clock = clockFrom(() => new Date());

/** A clock stopped at one instant, for tests and reproducible runs. */
export const fixedClock = (instant: string | Date): Clock => clockFrom(() => new Date(instant));

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
