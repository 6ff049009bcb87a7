// Small statistics for a noisy shared machine: medians over repetitions, never single samples.

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function range(values: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...values), max: Math.max(...values) };
}

/** Seconds with one decimal, or "n/a". */
export function seconds(ms: number | undefined): string {
  return ms === undefined || Number.isNaN(ms) ? "n/a" : `${(ms / 1000).toFixed(1)} s`;
}

export function millis(ms: number | undefined): string {
  return ms === undefined || Number.isNaN(ms) ? "n/a" : `${Math.round(ms)} ms`;
}

export function ratio(ours: number | undefined, baseline: number | undefined): number | undefined {
  if (ours === undefined || baseline === undefined || baseline === 0) return undefined;
  return ours / baseline;
}
