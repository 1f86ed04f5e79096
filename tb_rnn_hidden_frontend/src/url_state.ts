/**
 * The view in the URL, so it can be shared and survives a reload.
 *
 * TensorBoard's own URL is `…/#rnn_hidden` (its hash names the active plugin,
 * in its legacy `#plugin&key=value` form). The plugin runs in a same-origin
 * iframe, so it keeps its state as `rh_*` keys after the plugin id in the top
 * window's hash; where the top window cannot be reached, the iframe's own hash.
 */
import { DEFAULT_DISPLAY, DEFAULT_PROJECTION_PARAMS, type ColorBy, type ProjectionParams } from "./model";

export interface UrlState {
  run?: string;
  tag?: string;
  step?: number;
  selected?: number[];
  focus?: number;
  colorBy?: ColorBy;
  params?: Partial<ProjectionParams>;
}

const PREFIX = "rh_";
const COLOR_BYS: readonly ColorBy[] = ["prediction", "label", "time", "correct"];

/** `rh_*` pairs for `state`; defaults are left out to keep URLs short. */
export function encodeUrlState(state: UrlState): [string, string][] {
  const pairs: [string, string][] = [];
  if (state.run !== undefined) pairs.push(["run", state.run]);
  if (state.tag !== undefined) pairs.push(["tag", state.tag]);
  if (state.step !== undefined) pairs.push(["step", String(state.step)]);
  if (state.selected && state.selected.length > 0) pairs.push(["sel", state.selected.join(",")]);
  if (state.focus !== undefined) pairs.push(["focus", String(state.focus)]);
  if (state.colorBy !== undefined && state.colorBy !== DEFAULT_DISPLAY.colorBy) pairs.push(["color", state.colorBy]);
  const params = state.params ?? {};
  for (const key of Object.keys(DEFAULT_PROJECTION_PARAMS) as (keyof ProjectionParams)[]) {
    const value = params[key];
    if (value !== undefined && value !== DEFAULT_PROJECTION_PARAMS[key]) pairs.push([`p_${key}`, String(value)]);
  }
  return pairs.map(([key, value]) => [PREFIX + key, value]);
}

function integer(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}

/** The `rh_*` keys of `pairs`, validated; anything malformed is ignored. */
export function decodeUrlState(pairs: Iterable<[string, string]>): UrlState {
  const values = new Map<string, string>();
  for (const [key, value] of pairs) if (key.startsWith(PREFIX)) values.set(key.slice(PREFIX.length), value);
  const state: UrlState = {};
  const run = values.get("run");
  if (run !== undefined) state.run = run;
  const tag = values.get("tag");
  if (tag !== undefined) state.tag = tag;
  const step = integer(values.get("step"));
  if (step !== undefined) state.step = step;
  const sel = values.get("sel");
  if (sel !== undefined) {
    const indices = sel.split(",").map((s) => integer(s)).filter((i): i is number => i !== undefined && i >= 0);
    state.selected = [...new Set(indices)].sort((a, b) => a - b);
  }
  const focus = integer(values.get("focus"));
  if (focus !== undefined && focus >= 0) state.focus = focus;
  const color = values.get("color");
  if (color !== undefined && (COLOR_BYS as readonly string[]).includes(color)) state.colorBy = color as ColorBy;
  const params: Partial<ProjectionParams> = {};
  const method = values.get("p_method");
  if (method === "tsne" || method === "pca" || method === "umap") params.method = method;
  const metric = values.get("p_metric");
  if (metric === "euclidean" || metric === "cosine") params.metric = metric;
  const align = values.get("p_align");
  if (align === "none" || align === "neighbor") params.align = align;
  for (const key of ["perplexity", "seed", "iterations"] as const) {
    const text = values.get(`p_${key}`);
    const value = text !== undefined ? Number(text) : NaN;
    if (Number.isFinite(value)) params[key] = value;
  }
  if (Object.keys(params).length > 0) state.params = params;
  return state;
}

/** Splits a `#plugin&k=v&…` hash into the plugin id and its pairs. */
export function parseHash(hash: string): { head: string; pairs: [string, string][] } {
  const parts = hash.replace(/^#/, "").split("&");
  const head = parts[0] ?? "";
  const pairs: [string, string][] = [];
  for (const part of parts.slice(1)) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1));
    pairs.push([key, value]);
  }
  return { head, pairs };
}

/** `hash` with its `rh_*` pairs replaced by `ours`; other keys are kept. */
export function replaceHashState(hash: string, ours: [string, string][]): string {
  const { head, pairs } = parseHash(hash);
  const kept = pairs.filter(([key]) => !key.startsWith(PREFIX));
  const all = [...kept, ...ours];
  const tail = all.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  return `#${head}${tail ? `&${tail}` : ""}`;
}

/** The window whose URL the user sees: TensorBoard's, when reachable. */
function urlWindow(): Window {
  try {
    if (window.parent !== window && window.parent.location.href) return window.parent;
  } catch {
    // cross-origin parent: fall back to this frame
  }
  return window;
}

export function readUrlState(): UrlState {
  return decodeUrlState(parseHash(urlWindow().location.hash).pairs);
}

export function writeUrlState(state: UrlState): void {
  const target = urlWindow();
  const hash = replaceHashState(target.location.hash || "#rnn_hidden", encodeUrlState(state));
  if (hash === target.location.hash) return;
  // replaceState: no history entry per slider move, and no hashchange for TensorBoard's router.
  target.history.replaceState(target.history.state, "", hash);
}

/** True when `hash` carries any of the tab's `rh_*` keys. */
export function hasUrlState(hash: string): boolean {
  return parseHash(hash).pairs.some(([key]) => key.startsWith(PREFIX));
}

/**
 * Calls `listener` when the user changes the URL's hash by hand (a pasted
 * link, an edited address) or TensorBoard's router rewrites it (clicking the
 * tab sets a bare `#rnn_hidden`). Our own writes use replaceState, which fires
 * no hashchange.
 */
export function watchUrlState(listener: (state: UrlState, hasOurs: boolean) => void): void {
  const target = urlWindow();
  target.addEventListener("hashchange", () => {
    const hash = target.location.hash;
    if (parseHash(hash).head !== "rnn_hidden") return; // another plugin's tab: not ours to read
    listener(decodeUrlState(parseHash(hash).pairs), hasUrlState(hash));
  });
}
