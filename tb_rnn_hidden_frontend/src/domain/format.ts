/**
 * Numbers and errors as the tab words them. Every number a view prints goes
 * through here, so a value that is not a finite number (null, NaN, a string
 * from a damaged record) prints as "—" instead of throwing mid-render.
 */

/** `value.toFixed(digits)`, or `fallback` ("—", or e.g. null for "leave it out") when
 * `value` is not a finite number. */
export function formatFixed(value: unknown, digits: number): string;
export function formatFixed<F>(value: unknown, digits: number, fallback: F): string | F;
export function formatFixed(value: unknown, digits: number, fallback: unknown = "—"): unknown {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : fallback;
}

/** `value` (a share, 0.5) as a percentage ("50.0%"), or `fallback`. */
export function formatPercent(value: unknown, digits = 1, fallback = "—"): string {
  return typeof value === "number" && Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : fallback;
}

/** `value.toPrecision(digits)`, or `fallback`. */
export function formatPrecision(value: unknown, digits: number, fallback = "—"): string {
  return typeof value === "number" && Number.isFinite(value) ? value.toPrecision(digits) : fallback;
}

/**
 * What the tab says where a checkpoint's views would be when it cannot be
 * drawn: which step of which run and tag, and the server's reason (a corrupt
 * record, a newer format version to upgrade for, a step no longer logged).
 */
export function checkpointErrorText(run: string, tag: string, step: number, reason: string): string {
  return `Step ${step} of run "${run}", tag "${tag}" cannot be shown: ${reason}`;
}
