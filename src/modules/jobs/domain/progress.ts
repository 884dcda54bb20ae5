/** Counts of a job's items by outcome (pending = matched and not yet processed). */
export interface JobCounts {
  matched: number;
  changed: number;
  unchanged: number;
  refused: number;
  failed: number;
  cancelled: number;
}

export interface JobProgress {
  processed: number;
  pending: number;
  /** 0–100, one decimal; while matching is still running it is of the invoices matched so far. */
  percent: number;
  /** Invoices processed per second since the job started processing (null before it did). */
  rate_per_second: number | null;
  /** Seconds left at the current rate (null when unknown). */
  eta_seconds: number | null;
}

export const processedOf = (counts: JobCounts) => counts.changed + counts.unchanged + counts.refused + counts.failed + counts.cancelled;

/** Pure: progress from counts and the elapsed processing time. */
export function jobProgress(counts: JobCounts, elapsedMs: number | null): JobProgress {
  const processed = processedOf(counts);
  const pending = Math.max(counts.matched - processed, 0);
  const percent = counts.matched === 0 ? 0 : Math.floor((processed / counts.matched) * 1000) / 10;
  const rate = elapsedMs !== null && elapsedMs > 0 ? Math.round((processed / (elapsedMs / 1000)) * 10) / 10 : null;
  const eta = rate !== null && rate > 0 ? Math.ceil(pending / rate) : null;
  return { processed, pending, percent, rate_per_second: rate, eta_seconds: eta };
}
