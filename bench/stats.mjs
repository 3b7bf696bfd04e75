// Small statistics for few samples: the median and the range, nothing that pretends to more.

export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function range(values) {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (finite.length === 0) return undefined;
  return [Math.min(...finite), Math.max(...finite)];
}

export function sum(values) {
  return values.reduce((total, v) => total + (v ?? 0), 0);
}

/** `value / base`, or undefined when either is missing or the base is 0. */
export function ratio(value, base) {
  return value === undefined || base === undefined || base === 0 ? undefined : value / base;
}

/** Half the range of `values` around their median, as a fraction of it: the run's noise. */
export function spread(values) {
  const m = median(values);
  const r = range(values);
  return m && r ? (r[1] - r[0]) / 2 / m : undefined;
}
