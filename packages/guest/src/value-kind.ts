/** What a value passed where data was expected is, for a message: "number", "Object", "null". */
export function valueKind(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}
