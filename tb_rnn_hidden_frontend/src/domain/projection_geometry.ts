/**
 * Pure geometry of the projection view, kept free of the DOM so Node tests can
 * check it: the data <-> screen transform (zoom and pan), a uniform grid over
 * the points for hit-testing and brushing in time independent of P, and the
 * box / lasso membership tests.
 *
 * Coordinates are `Float32Array` P x 2 row-major, in point order.
 */

/**
 * Data -> screen (CSS px, origin top-left of the canvas):
 * `sx = x * k + tx`, `sy = ty - y * k` (data y grows upwards).
 */
export interface ViewTransform {
  readonly k: number;
  readonly tx: number;
  readonly ty: number;
}

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function toScreen(t: ViewTransform, x: number, y: number): [number, number] {
  return [x * t.k + t.tx, t.ty - y * t.k];
}

export function toData(t: ViewTransform, sx: number, sy: number): [number, number] {
  return [(sx - t.tx) / t.k, (t.ty - sy) / t.k];
}

/** Bounds of the finite points (a zero-size box around the origin when there are none). */
export function dataBounds(coords: ArrayLike<number>): Bounds {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i + 1 < coords.length; i += 2) {
    const x = coords[i] as number;
    const y = coords[i + 1] as number;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (minX > maxX) return { minX: 0, minY: 0, maxX: 0, maxY: 0 };
  return { minX, minY, maxX, maxY };
}

/** The transform that shows all of `bounds` centred in a `width` x `height` area with `margin` px. */
export function fitTransform(bounds: Bounds, width: number, height: number, margin = 16): ViewTransform {
  const dx = bounds.maxX - bounds.minX;
  const dy = bounds.maxY - bounds.minY;
  const w = Math.max(1, width - 2 * margin);
  const hgt = Math.max(1, height - 2 * margin);
  const k = dx <= 0 && dy <= 0 ? 1 : Math.min(dx > 0 ? w / dx : Infinity, dy > 0 ? hgt / dy : Infinity);
  const cx = (bounds.minX + bounds.maxX) / 2;
  const cy = (bounds.minY + bounds.maxY) / 2;
  return { k, tx: width / 2 - cx * k, ty: height / 2 + cy * k };
}

/** Zooms by `factor` keeping the data point under screen position (sx, sy) in place. */
export function zoomAt(t: ViewTransform, sx: number, sy: number, factor: number): ViewTransform {
  const k = t.k * factor;
  return { k, tx: sx - (sx - t.tx) * factor, ty: sy - (sy - t.ty) * factor };
}

export function panBy(t: ViewTransform, dx: number, dy: number): ViewTransform {
  return { k: t.k, tx: t.tx + dx, ty: t.ty + dy };
}

/**
 * A uniform grid over the points in data space, stored as CSR: the points of
 * cell c are `order[start[c] .. start[c + 1] - 1]`. About `perCell` points a cell.
 */
export interface PointGrid {
  readonly bounds: Bounds;
  readonly cols: number;
  readonly rows: number;
  readonly cellW: number;
  readonly cellH: number;
  readonly start: Int32Array;
  readonly order: Int32Array;
  readonly coords: Float32Array;
}

export function buildGrid(coords: Float32Array, perCell = 4): PointGrid {
  const n = Math.floor(coords.length / 2);
  const bounds = dataBounds(coords);
  const side = Math.max(1, Math.ceil(Math.sqrt(n / perCell)));
  const spanX = Math.max(bounds.maxX - bounds.minX, 1e-9);
  const spanY = Math.max(bounds.maxY - bounds.minY, 1e-9);
  // Cells roughly square in data space, about side * side of them.
  const aspect = spanX / spanY;
  const cols = Math.max(1, Math.min(4096, Math.round(side * Math.sqrt(aspect))));
  const rows = Math.max(1, Math.min(4096, Math.round(side / Math.sqrt(aspect))));
  const cellW = spanX / cols;
  const cellH = spanY / rows;
  const cellOf = new Int32Array(n);
  const start = new Int32Array(cols * rows + 1);
  for (let i = 0; i < n; i++) {
    const x = coords[2 * i] as number;
    const y = coords[2 * i + 1] as number;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      cellOf[i] = -1;
      continue;
    }
    const cx = Math.min(cols - 1, Math.floor((x - bounds.minX) / cellW));
    const cy = Math.min(rows - 1, Math.floor((y - bounds.minY) / cellH));
    const c = cy * cols + cx;
    cellOf[i] = c;
    (start[c + 1] as number)++;
  }
  for (let c = 0; c < cols * rows; c++) start[c + 1] = (start[c + 1] as number) + (start[c] as number);
  const fill = start.slice(0, cols * rows);
  const order = new Int32Array(start[cols * rows] as number);
  for (let i = 0; i < n; i++) {
    const c = cellOf[i] as number;
    if (c < 0) continue;
    order[(fill[c] as number)++] = i;
  }
  return { bounds, cols, rows, cellW, cellH, start, order, coords };
}

function cellRange(grid: PointGrid, minX: number, minY: number, maxX: number, maxY: number) {
  const { bounds, cols, rows, cellW, cellH } = grid;
  const clampCol = (v: number) => Math.min(cols - 1, Math.max(0, v));
  const clampRow = (v: number) => Math.min(rows - 1, Math.max(0, v));
  return {
    c0: clampCol(Math.floor((minX - bounds.minX) / cellW)),
    c1: clampCol(Math.floor((maxX - bounds.minX) / cellW)),
    r0: clampRow(Math.floor((minY - bounds.minY) / cellH)),
    r1: clampRow(Math.floor((maxY - bounds.minY) / cellH)),
    empty: maxX < bounds.minX || minX > bounds.maxX || maxY < bounds.minY || minY > bounds.maxY,
  };
}

/**
 * The point nearest to data position (x, y) within data distance `radius`, or
 * -1. On a tie the higher index wins (it is drawn on top). `accept` filters
 * points (e.g. only drawn ones).
 */
export function nearestPoint(
  grid: PointGrid,
  x: number,
  y: number,
  radius: number,
  accept?: (point: number) => boolean,
): number {
  const range = cellRange(grid, x - radius, y - radius, x + radius, y + radius);
  if (range.empty) return -1;
  let best = -1;
  let bestD = radius * radius;
  const { coords, start, order, cols } = grid;
  for (let r = range.r0; r <= range.r1; r++) {
    for (let c = range.c0; c <= range.c1; c++) {
      const cell = r * cols + c;
      for (let j = start[cell] as number, end = start[cell + 1] as number; j < end; j++) {
        const p = order[j] as number;
        const dx = (coords[2 * p] as number) - x;
        const dy = (coords[2 * p + 1] as number) - y;
        const d = dx * dx + dy * dy;
        if ((d < bestD || (d === bestD && p > best)) && (accept === undefined || accept(p))) {
          best = p;
          bestD = d;
        }
      }
    }
  }
  return best;
}

/** The points inside the data-space box (inclusive), ascending. */
export function pointsInBox(
  grid: PointGrid,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): Int32Array {
  const minX = Math.min(x0, x1);
  const maxX = Math.max(x0, x1);
  const minY = Math.min(y0, y1);
  const maxY = Math.max(y0, y1);
  const range = cellRange(grid, minX, minY, maxX, maxY);
  if (range.empty) return new Int32Array(0);
  const { coords, start, order, cols } = grid;
  const hits: number[] = [];
  for (let r = range.r0; r <= range.r1; r++) {
    for (let c = range.c0; c <= range.c1; c++) {
      const cell = r * cols + c;
      for (let j = start[cell] as number, end = start[cell + 1] as number; j < end; j++) {
        const p = order[j] as number;
        const x = coords[2 * p] as number;
        const y = coords[2 * p + 1] as number;
        if (x >= minX && x <= maxX && y >= minY && y <= maxY) hits.push(p);
      }
    }
  }
  return Int32Array.from(hits).sort();
}

/** Even-odd rule; `polygon` is [x0, y0, x1, y1, ...] (closed implicitly). */
export function pointInPolygon(polygon: ArrayLike<number>, x: number, y: number): boolean {
  const n = Math.floor(polygon.length / 2);
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = polygon[2 * i] as number;
    const yi = polygon[2 * i + 1] as number;
    const xj = polygon[2 * j] as number;
    const yj = polygon[2 * j + 1] as number;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The points inside a data-space polygon (lasso), ascending. */
export function pointsInPolygon(grid: PointGrid, polygon: ArrayLike<number>): Int32Array {
  if (polygon.length < 6) return new Int32Array(0);
  const { minX, minY, maxX, maxY } = dataBounds(polygon);
  const box = pointsInBox(grid, minX, minY, maxX, maxY);
  const { coords } = grid;
  const hits: number[] = [];
  for (const p of box) {
    if (pointInPolygon(polygon, coords[2 * p] as number, coords[2 * p + 1] as number)) hits.push(p);
  }
  return Int32Array.from(hits);
}

/** The distinct sequences of `points` (via `pointSequence`), ascending. */
export function sequencesOf(points: ArrayLike<number>, pointSequence: Int32Array): number[] {
  const seen = new Set<number>();
  for (let i = 0; i < points.length; i++) {
    const s = pointSequence[points[i] as number];
    if (s !== undefined) seen.add(s);
  }
  return [...seen].sort((a, b) => a - b);
}

/** `from` + (`to` - `from`) * t, elementwise, into `out`. */
export function lerpCoords(from: Float32Array, to: Float32Array, t: number, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) {
    const a = from[i] as number;
    out[i] = a + ((to[i] as number) - a) * t;
  }
  return out;
}

/**
 * `from` moved and scaled so that its centroid and RMS spread equal `to`'s:
 * layouts of different methods (a provisional PCA, a t-SNE) or of other
 * parameters live at unrelated scales, and the move between them only reads
 * as points travelling when both fill the same area. A copy.
 */
export function matchSpread(from: Float32Array, to: Float32Array): Float32Array {
  const stats = (c: Float32Array): [number, number, number] => {
    const n = c.length / 2;
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += c[2 * i] as number;
      my += c[2 * i + 1] as number;
    }
    mx /= Math.max(1, n);
    my /= Math.max(1, n);
    let ss = 0;
    for (let i = 0; i < n; i++) ss += ((c[2 * i] as number) - mx) ** 2 + ((c[2 * i + 1] as number) - my) ** 2;
    return [mx, my, Math.sqrt(ss / Math.max(1, n))];
  };
  const [fx, fy, fs] = stats(from);
  const [tx, ty, ts] = stats(to);
  const k = fs > 0 ? ts / fs : 1;
  const out = new Float32Array(from.length);
  for (let i = 0; i < out.length; i += 2) {
    out[i] = ((from[i] as number) - fx) * k + tx;
    out[i + 1] = ((from[i + 1] as number) - fy) * k + ty;
  }
  return out;
}

/** Ease-in-out (cubic) for the checkpoint animation. */
export function easeInOut(t: number): number {
  const x = Math.min(1, Math.max(0, t));
  return x < 0.5 ? 4 * x * x * x : 1 - Math.pow(-2 * x + 2, 3) / 2;
}

/**
 * Points whose arriving transition (step t-1 -> t of its sequence) has a
 * normalised distance in [lo, hi]; the first step of a sequence has none.
 * Transition rows follow `CheckpointData.distances`: point p of sequence s
 * at step > 0 arrives through row p - s - 1.
 */
export function pointsInDistanceRange(
  pointSequence: Int32Array,
  pointStep: Int32Array,
  distances: Float32Array,
  lo: number,
  hi: number,
): Uint8Array {
  const n = pointSequence.length;
  const mask = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    if ((pointStep[p] as number) === 0) continue;
    const d = distances[p - (pointSequence[p] as number) - 1];
    if (d !== undefined && d >= lo && d <= hi) mask[p] = 1;
  }
  return mask;
}
