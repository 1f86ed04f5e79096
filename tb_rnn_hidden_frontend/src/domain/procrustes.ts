/**
 * Putting one 2-D layout on top of another of the same points: the
 * similarity transform (rotation or reflection, uniform scale, shift) that
 * brings `moving` closest to `fixed` in the least-squares sense (orthogonal
 * Procrustes). Two runs' or two layers' t-SNE layouts are unrelated up to
 * such a transform (t-SNE fixes neither orientation nor handedness), so after
 * it the same class sits on the same side where the two layouts allow.
 */

/** `x' = a*x + b*y + tx`, `y' = c*x + d*y + ty`. */
export interface Similarity {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly tx: number;
  readonly ty: number;
  /** Whether the best fit mirrors `moving`. */
  readonly reflected: boolean;
}

function mean(points: Float32Array): [number, number] {
  const n = points.length / 2;
  let x = 0;
  let y = 0;
  for (let i = 0; i < n; i++) {
    x += points[2 * i] as number;
    y += points[2 * i + 1] as number;
  }
  return n > 0 ? [x / n, y / n] : [0, 0];
}

/**
 * The similarity taking `moving` onto `fixed` (both P x 2, row-major, the
 * same points in the same order). In 2-D the best rotation has a closed
 * form: its angle is atan2 of the summed cross and dot products of the
 * centred points; the best reflection is the best rotation of the mirrored
 * points, and the fit with the larger sum wins.
 */
export function fitSimilarity(fixed: Float32Array, moving: Float32Array): Similarity {
  if (fixed.length !== moving.length) throw new Error(`Procrustes needs the same points: ${fixed.length / 2} and ${moving.length / 2}`);
  const [fx, fy] = mean(fixed);
  const [mx, my] = mean(moving);
  let dot = 0;
  let cross = 0;
  let dotMirror = 0;
  let crossMirror = 0;
  let norm = 0;
  for (let i = 0; i < fixed.length; i += 2) {
    const ax = (fixed[i] as number) - fx;
    const ay = (fixed[i + 1] as number) - fy;
    const bx = (moving[i] as number) - mx;
    const by = (moving[i + 1] as number) - my;
    dot += bx * ax + by * ay;
    cross += bx * ay - by * ax;
    // The mirrored point (bx, -by).
    dotMirror += bx * ax - by * ay;
    crossMirror += bx * ay + by * ax;
    norm += bx * bx + by * by;
  }
  const fit = Math.hypot(dot, cross);
  const fitMirror = Math.hypot(dotMirror, crossMirror);
  const reflected = fitMirror > fit;
  const theta = reflected ? Math.atan2(crossMirror, dotMirror) : Math.atan2(cross, dot);
  const scale = norm > 0 ? Math.max(fit, fitMirror) / norm : 1;
  const cos = scale * Math.cos(theta);
  const sin = scale * Math.sin(theta);
  // Rotation after the mirror (y -> -y) when reflected.
  const a = cos;
  const b = reflected ? sin : -sin;
  const c = sin;
  const d = reflected ? -cos : cos;
  return { a, b, c, d, tx: fx - (a * mx + b * my), ty: fy - (c * mx + d * my), reflected };
}

/** `points` (P x 2) moved by `t`, as a new array. */
export function applySimilarity(points: Float32Array, t: Similarity): Float32Array {
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    const x = points[i] as number;
    const y = points[i + 1] as number;
    out[i] = t.a * x + t.b * y + t.tx;
    out[i + 1] = t.c * x + t.d * y + t.ty;
  }
  return out;
}

/** The root-mean-square distance between corresponding points. */
export function rmsDistance(p: Float32Array, q: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += ((p[i] as number) - (q[i] as number)) ** 2;
  return p.length > 0 ? Math.sqrt(sum / (p.length / 2)) : 0;
}
