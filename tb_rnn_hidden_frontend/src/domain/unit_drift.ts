/**
 * The units that drifted most from A to B (`/compare`'s `unit_drift`, already
 * ordered by drift descending), with each one's share of the largest drift
 * for its bar.
 */
import type { UnitDrift } from "../api/types";

export interface DriftRow {
  unit: number;
  drift: number;
  meanA: number;
  meanB: number;
  /** drift over the largest drift listed, in [0, 1] (0 when none drifted). */
  share: number;
}

/** The first `count` units of `drift` (most drifted first), as rows. */
export function topDrift(drift: UnitDrift, count = 12): DriftRow[] {
  const n = Math.min(count, drift.units.length);
  const rows: DriftRow[] = [];
  for (let k = 0; k < n; k++) {
    rows.push({ unit: drift.units[k] ?? k, drift: drift.drift[k] ?? 0, meanA: drift.mean_a[k] ?? 0, meanB: drift.mean_b[k] ?? 0, share: 0 });
  }
  const largest = Math.max(0, ...rows.map((r) => (Number.isFinite(r.drift) ? r.drift : 0)));
  for (const row of rows) row.share = largest > 0 && Number.isFinite(row.drift) ? row.drift / largest : 0;
  return rows;
}
