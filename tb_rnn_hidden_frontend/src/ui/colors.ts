/**
 * Colours shared by every view, so a class has the same hue everywhere.
 *
 * Classes use the Okabe–Ito palette (distinguishable with the common forms of
 * colour blindness); confidence is drawn as the strength of the class hue.
 */

/** Okabe–Ito, without black (kept for text) and with yellow last (weak on white). */
export const CLASS_PALETTE: readonly string[] = [
  "#0072B2", // blue
  "#E69F00", // orange
  "#009E73", // bluish green
  "#CC79A7", // reddish purple
  "#56B4E9", // sky blue
  "#D55E00", // vermillion
  "#F0E442", // yellow
  "#999999", // grey
];

export function classColor(index: number): string {
  if (index < 0) return "#9e9e9e";
  return CLASS_PALETTE[index % CLASS_PALETTE.length] ?? "#9e9e9e";
}

/** `#rrggbb` to [r, g, b] in 0..255. */
export function hexToRgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/**
 * The class hue at a strength given by the confidence: a prediction at chance
 * level (1 / numClasses) is nearly background, a certain one the full hue.
 */
export function confidenceColor(classIndex: number, confidence: number, numClasses: number): string {
  const chance = numClasses > 0 ? 1 / numClasses : 0;
  const strength = Math.min(1, Math.max(0, (confidence - chance) / Math.max(1e-6, 1 - chance)));
  const [r, g, b] = hexToRgb(classColor(classIndex));
  const alpha = 0.12 + 0.88 * strength;
  return `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(3)})`;
}

/** Correct / wrong, as in the sequence table and the projection's correctness colouring. */
export const CORRECT_COLOR = "#009E73";
export const WRONG_COLOR = "#D55E00";

/** Sequential ramp for time steps and probabilities (viridis, 9 stops). */
const VIRIDIS = [
  "#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725",
];

/** Viridis at `t` in [0, 1]. */
export function sequentialColor(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [r0, g0, b0] = hexToRgb(VIRIDIS[i] as string);
  const [r1, g1, b1] = hexToRgb(VIRIDIS[i + 1] as string);
  const mix = (a: number, b: number) => Math.round(a + (b - a) * f);
  return `rgb(${mix(r0, r1)}, ${mix(g0, g1)}, ${mix(b0, b1)})`;
}

/** An RGB triple, 0..255 per channel (fractional while mixing). */
export type Rgb = [number, number, number];

/** `a` moved towards `b` by `t` in [0, 1]. */
export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** `rgba(r, g, b, alpha)` of a triple (channels rounded). */
export function rgbCss(c: Rgb, alpha = 1): string {
  return `rgba(${Math.round(c[0])}, ${Math.round(c[1])}, ${Math.round(c[2])}, ${alpha})`;
}

/** Little-endian RGBA, opaque, packed for a Uint32Array view of ImageData. */
export function packRgb(c: Rgb): number {
  return ((255 << 24) | (Math.round(c[2]) << 16) | (Math.round(c[1]) << 8) | Math.round(c[0])) >>> 0;
}

let colorProbe: CanvasRenderingContext2D | null = null;

/** Any CSS colour -> [r, g, b] (via a canvas's colour parser); `fallback` when unparsable. */
export function parseColor(css: string, fallback: Rgb): Rgb {
  const text = css.trim();
  if (!text) return fallback;
  colorProbe ??= document.createElement("canvas").getContext("2d");
  if (colorProbe === null) return fallback;
  colorProbe.fillStyle = "#010203";
  colorProbe.fillStyle = text;
  const value = String(colorProbe.fillStyle);
  if (value === "#010203" && text !== "#010203") return fallback;
  if (value.startsWith("#")) return hexToRgb(value.slice(0, 7));
  const m = value.match(/rgba?\(([^)]+)\)/);
  if (!m) return fallback;
  const parts = (m[1] ?? "").split(",").map((s) => Number.parseFloat(s));
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}

/**
 * The paper's per-step colour (its `getLineColor`): the predicted class's
 * hue, mixed towards the background as the confidence falls to chance level
 * (1 / numClasses), so a confident step is the full hue and an undecided one
 * nearly background. Opaque, for points and trajectory segments alike.
 */
export function predictionLightness(classIndex: number, confidence: number, numClasses: number, bg: Rgb): Rgb {
  const chance = numClasses > 0 ? 1 / numClasses : 0;
  const strength = Math.min(1, Math.max(0, (confidence - chance) / Math.max(1e-6, 1 - chance)));
  return mix(hexToRgb(classColor(classIndex)), bg, 0.8 * (1 - strength));
}

/** Trajectory labels "after" a change (the step it arrives at) and "before" it (the step it leaves), as in the paper. */
export const LABEL_AFTER_COLOR = "#8E24AA";
export const LABEL_BEFORE_COLOR = "#2E7D32";
/** The same hues, light enough to read on the dark theme's background. */
export const LABEL_AFTER_COLOR_DARK = "#CE93D8";
export const LABEL_BEFORE_COLOR_DARK = "#81C784";
