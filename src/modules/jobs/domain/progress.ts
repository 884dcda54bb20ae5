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

/** "1h02m", "3m05s", "42s". */
export function formatSeconds(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** One terminal line: `[#####-----]  50.0%  500/1000  120.5/s  ETA 4s`. */
export function progressLine(counts: JobCounts, progress: JobProgress, barWidth = 30): string {
  const filled = Math.round((progress.percent / 100) * barWidth);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  const rate = progress.rate_per_second === null ? '–/s' : `${progress.rate_per_second}/s`;
  const eta = progress.eta_seconds === null ? 'ETA –' : `ETA ${formatSeconds(progress.eta_seconds)}`;
  return `${bar} ${progress.percent.toFixed(1).padStart(5)}%  ${progress.processed}/${counts.matched}  ${rate}  ${eta}`;
}
