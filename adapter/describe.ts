/**
 * A value as error messages quote it (`got "80a"`, `got -1`, `got null`, `got an object`): strings
 * in quotes, arrays item by item, objects and functions by kind so that nothing prints
 * `[object Object]`. The adapter's option errors and the dev server's setting errors both use it.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describeValue).join(', ')}]`;
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
