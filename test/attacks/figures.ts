/** PORTHOLE_ATTACK_LONG=1 runs the heavy figures longer and with more rounds. */
export const LONG = process.env.PORTHOLE_ATTACK_LONG === '1';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The one labelled line an attack file prints: `ATTACK <surface>: <figure> (<details>)`. */
export function ratioLine(surface: string, figure: string, details: string[]): string {
  return `ATTACK ${surface}: ${figure} (${details.join('; ')})`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
