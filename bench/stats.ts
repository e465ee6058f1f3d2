// Summary statistics for latency samples, in milliseconds.
export interface Stats {
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: r2(percentile(sorted, 50)), p95: r2(percentile(sorted, 95)), min: r2(sorted[0] ?? NaN), max: r2(sorted[sorted.length - 1] ?? NaN), mean: r2(mean) };
}
