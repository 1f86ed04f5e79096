/**
 * The heat map's colour scales for probabilities, built so that neighbouring
 * values differ visibly: each is a path through CIELAB resampled to equal
 * perceptual steps (equal ΔE*ab per unit of probability), kept as a lookup
 * table of 257 colours (index round(p * 256), so 0.5 is an entry of its own).
 *
 * - `sequentialScale`: one class's probability, light (0) to dark (1) along
 *   ColorBrewer's YlGnBu; lightness falls all the way, so low probabilities
 *   (a 5- or 10-class model near chance) are told apart as well as high ones.
 * - `divergingScale`: for two classes, p(class 1): class 0's hue at 0, a
 *   neutral grey at 0.5, class 1's hue at 1, so a prediction crossing 0.5
 *   changes hue instead of staying in one teal. The distance from neutral
 *   grows as |2p - 1|^0.5, so the first few hundredths either side of 0.5
 *   (an early checkpoint's flips) already show their class's hue.
 *
 * Viridis, which the heat map used before, is perceptually uniform too, but
 * 0.35 to 0.65 all lie in one blue-green: a binary model hovering around 0.5
 * shows as a teal band. The diverging scale changes hue at 0.5, and 0.45
 * and 0.55 lie ΔE*ab ≈ 40 apart; the sequential one moves ≥ 12 per 0.1
 * (≥ 5.5 per 0.05; the node test checks both).
 */
import { classColor, hexToRgb, type Rgb } from "./colors";

export const SCALE_SIZE = 257;

export interface ProbabilityScale {
  readonly kind: "sequential" | "diverging";
  /** SCALE_SIZE colours, channel values 0..255 (integers). */
  readonly lut: readonly Rgb[];
}

const YL_GN_BU = ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"];
/** The middle of the diverging scale: a light grey that still reads as a cell on a white card. */
export const NEUTRAL = "#ebebeb";

type Lab = [number, number, number];

function linear(c: number): number {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function gamma(v: number): number {
  const c = v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
  return Math.round(255 * Math.min(1, Math.max(0, c)));
}

const WHITE: [number, number, number] = [0.95047, 1, 1.08883];
const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
const fInverse = (t: number) => (t ** 3 > 216 / 24389 ? t ** 3 : (116 * t - 16) / (24389 / 27));

/** sRGB (0..255) to CIELAB (D65). */
export function rgbToLab([r, g, b]: Rgb): Lab {
  const [lr, lg, lb] = [linear(r), linear(g), linear(b)];
  const x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / WHITE[0];
  const y = (0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb) / WHITE[1];
  const z = (0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb) / WHITE[2];
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

/** CIELAB (D65) to sRGB, rounded to 0..255. */
export function labToRgb([l, a, b]: Lab): Rgb {
  const fy = (l + 16) / 116;
  const x = fInverse(fy + a / 500) * WHITE[0];
  const y = fInverse(fy) * WHITE[1];
  const z = fInverse(fy - b / 200) * WHITE[2];
  return [
    gamma(3.2404542 * x - 1.5371385 * y - 0.4985314 * z),
    gamma(-0.969266 * x + 1.8760108 * y + 0.041556 * z),
    gamma(0.0556434 * x - 0.2040259 * y + 1.0572252 * z),
  ];
}

/** ΔE*ab (CIE76) between two sRGB colours. */
export function deltaE(a: Rgb, b: Rgb): number {
  const [l1, a1, b1] = rgbToLab(a);
  const [l2, a2, b2] = rgbToLab(b);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}

/** `count` colours along the polyline through `stops` in CIELAB, at equal ΔE apart. */
function uniformPath(stops: readonly string[], count: number): Rgb[] {
  const labs = stops.map((s) => rgbToLab(hexToRgb(s)));
  const lengths = [0];
  for (let k = 1; k < labs.length; k++) {
    const [p, q] = [labs[k - 1] as Lab, labs[k] as Lab];
    lengths.push((lengths[k - 1] as number) + Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
  }
  const total = lengths[lengths.length - 1] as number;
  const out: Rgb[] = [];
  let k = 1;
  for (let j = 0; j < count; j++) {
    const at = (total * j) / Math.max(1, count - 1);
    while (k < labs.length - 1 && (lengths[k] as number) < at) k++;
    const [p, q] = [labs[k - 1] as Lab, labs[k] as Lab];
    const span = (lengths[k] as number) - (lengths[k - 1] as number);
    const t = span > 0 ? Math.min(1, Math.max(0, (at - (lengths[k - 1] as number)) / span)) : 0;
    out.push(labToRgb([p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t, p[2] + (q[2] - p[2]) * t]));
  }
  return out;
}

let sequential: ProbabilityScale | null = null;

/** One class's probability: light to dark, equal perceptual steps. */
export function sequentialScale(): ProbabilityScale {
  sequential ??= { kind: "sequential", lut: uniformPath(YL_GN_BU, SCALE_SIZE) };
  return sequential;
}

/** p(class 1) of a two-class model: class 0's colour ← neutral at 0.5 → class 1's colour. */
export function divergingScale(low = classColor(0), high = classColor(1)): ProbabilityScale {
  const steps = 1024; // fine enough that the square root's steep start is resolved
  const toLow = uniformPath([NEUTRAL, low], steps + 1);
  const toHigh = uniformPath([NEUTRAL, high], steps + 1);
  const lut: Rgb[] = [];
  for (let j = 0; j < SCALE_SIZE; j++) {
    const p = j / (SCALE_SIZE - 1);
    const strength = Math.sqrt(Math.abs(2 * p - 1));
    lut.push((p < 0.5 ? toLow : toHigh)[Math.round(strength * steps)] as Rgb);
  }
  return { kind: "diverging", lut };
}

/** The scale's colour at `p` (clamped to [0, 1]; not a number reads as 0). */
export function scaleRgb(scale: ProbabilityScale, p: number): Rgb {
  const x = Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
  return scale.lut[Math.round(x * (SCALE_SIZE - 1))] as Rgb;
}

export function scaleCss(scale: ProbabilityScale, p: number): string {
  const [r, g, b] = scaleRgb(scale, p);
  return `rgb(${r}, ${g}, ${b})`;
}

/** The scale as `#rrggbb` entries, comma-separated (published for tests to read cell colours against). */
export function scaleHexList(scale: ProbabilityScale): string {
  return scale.lut.map((c) => `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`).join(",");
}

/** A CSS linear-gradient of the scale (33 stops, close enough to the table for a legend). */
export function scaleGradient(scale: ProbabilityScale): string {
  const stops = Array.from({ length: 33 }, (_, j) => `${scaleCss(scale, j / 32)} ${((100 * j) / 32).toFixed(2)}%`);
  return `linear-gradient(to right, ${stops.join(", ")})`;
}
