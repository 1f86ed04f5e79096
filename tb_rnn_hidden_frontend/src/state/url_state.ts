/**
 * The view in the URL, so it can be shared and survives a reload.
 *
 * TensorBoard's own URL is `…/#rnn_hidden` (its hash names the active plugin,
 * in its legacy `#plugin&key=value` form). The plugin runs in a same-origin
 * iframe, so it keeps its state as `rh_*` keys after the plugin id in the top
 * window's hash; where the top window cannot be reached, the iframe's own hash.
 */
import { isColorBy } from "../domain/annotations";
import { DEFAULT_CHANGES, type ChangeFilter, type ChangeSortKey } from "./compare";
import { isLayoutCode } from "../domain/layout_state";
import {
  DEFAULT_DISPLAY,
  DEFAULT_PROJECTION_PARAMS,
  DEFAULT_TABLE,
  DISPLAY_RANGES,
  LABEL_KINDS,
  PROJECTION_FIELDS,
  appliesTo,
  isLabelKind,
  isMethod,
  type ColorBy,
  type DisplayOptions,
  type ProjectionParams,
} from "../domain/model";

export interface UrlState {
  run?: string;
  tag?: string;
  step?: number;
  selected?: number[];
  focus?: number;
  colorBy?: ColorBy;
  params?: Partial<ProjectionParams>;
  /**
   * `rh_layout`: the final layout the sender saw (`layout_state.layoutCode`),
   * so that a link opened on another server can say when its layout differs.
   */
  layout?: string;
  /** LSTMVis' hypothesis (`rh_theta`, `rh_units`, `rh_brush` "sequence:start:end", `rh_off` "before,after"). */
  lstmvis?: UrlHypothesis;
  /** The display options besides the colouring (`UrlDisplay`: `rh_lab`, `rh_jump`, …), each only where not the default. */
  display?: UrlDisplay;
  /** `rh_flip`: the confidence change a class change needs to count as a flip (the table's). */
  flipThreshold?: number;
  /** Compare mode (`rh_cmp=1`), its B (`rh_brun`, `rh_btag`, `rh_bstep`) and change table (`rh_chf` filter, `rh_chs` sort, `-` first = descending). */
  compare?: UrlCompare;
}

export interface UrlCompare {
  on?: boolean;
  run?: string;
  tag?: string;
  step?: number;
  filter?: ChangeFilter;
  sortKey?: ChangeSortKey;
  descending?: boolean;
}

const CHANGE_FILTERS: readonly ChangeFilter[] = [
  "all", "changed", "became_correct", "became_wrong", "still_correct", "still_wrong", "prediction_changed", "prediction_kept",
];
const CHANGE_SORT_KEYS: readonly ChangeSortKey[] = ["index", "change", "confidence_a", "confidence_b", "delta", "flip_a", "flip_b", "moved"];

function encodeCompare(c: UrlCompare): [string, string][] {
  if (!c.on) return [];
  const pairs: [string, string][] = [["cmp", "1"]];
  if (c.run !== undefined) pairs.push(["brun", c.run]);
  if (c.tag !== undefined) pairs.push(["btag", c.tag]);
  if (c.step !== undefined) pairs.push(["bstep", String(c.step)]);
  if (c.filter !== undefined && c.filter !== DEFAULT_CHANGES.filter) pairs.push(["chf", c.filter]);
  if (c.sortKey !== undefined && (c.sortKey !== DEFAULT_CHANGES.sortKey || Boolean(c.descending) !== DEFAULT_CHANGES.descending)) {
    pairs.push(["chs", (c.descending ? "-" : "") + c.sortKey]);
  }
  return pairs;
}

function decodeCompare(values: ReadonlyMap<string, string>): UrlCompare {
  const out: UrlCompare = {};
  if (values.get("cmp") === "1") out.on = true;
  const run = values.get("brun");
  if (run !== undefined) out.run = run;
  const tag = values.get("btag");
  if (tag !== undefined) out.tag = tag;
  const step = integer(values.get("bstep"));
  if (step !== undefined) out.step = step;
  const filter = values.get("chf");
  if (filter !== undefined && (CHANGE_FILTERS as readonly string[]).includes(filter)) out.filter = filter as ChangeFilter;
  const sort = values.get("chs");
  const key = sort?.replace(/^-/, "");
  if (sort !== undefined && key !== undefined && (CHANGE_SORT_KEYS as readonly string[]).includes(key)) {
    out.sortKey = key as ChangeSortKey;
    out.descending = sort.startsWith("-");
  }
  return out;
}

/** The display options a link carries (the colouring is `colorBy`, `rh_color`). */
export type UrlDisplay = Partial<Omit<DisplayOptions, "colorBy">>;

/** The select view's hypothesis in a link: enough to reopen it (units as the user left them). */
export interface UrlHypothesis {
  theta?: number;
  units?: number[];
  brush?: { sequence: number; start: number; end: number };
  off?: [number, number];
}

const PREFIX = "rh_";
const COLOR_BYS: readonly ColorBy[] = ["prediction", "confidence", "label", "time", "correct"];

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
  const method = params.method ?? DEFAULT_PROJECTION_PARAMS.method;
  if (method !== DEFAULT_PROJECTION_PARAMS.method) pairs.push(["p_method", method]);
  // Only the parameters of the method: the others are not used, so a link does not carry them.
  for (const field of PROJECTION_FIELDS) {
    const value = params[field.name];
    if (appliesTo(field, method) && value !== undefined && value !== DEFAULT_PROJECTION_PARAMS[field.name]) {
      pairs.push([`p_${field.name}`, String(value)]);
    }
  }
  if (state.layout !== undefined) pairs.push(["layout", state.layout]);
  pairs.push(...encodeHypothesis(state.lstmvis ?? {}));
  pairs.push(...encodeDisplay(state.display ?? {}));
  if (state.flipThreshold !== undefined && state.flipThreshold !== DEFAULT_TABLE.flipThreshold) pairs.push(["flip", String(state.flipThreshold)]);
  pairs.push(...encodeCompare(state.compare ?? {}));
  return pairs.map(([key, value]) => [PREFIX + key, value]);
}

function integer(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}

/** A `p_<name>` value if valid for its field (a choice it offers, a number in its range), else undefined. */
function fieldValue(field: (typeof PROJECTION_FIELDS)[number], text: string | undefined): string | number | undefined {
  if (text === undefined) return undefined;
  if (field.kind === "choice") return field.choices?.includes(text) ? text : undefined;
  if (!/^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(text)) return undefined;
  const value = Number(text);
  if (field.kind === "integer" && !Number.isInteger(value)) return undefined;
  if (value < (field.low ?? -Infinity) || value > (field.high ?? Infinity)) return undefined;
  return value;
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
  // A built-in colouring, or "annotation:<name>" (kept when the checkpoint lacks that track: the legend says so).
  if (color !== undefined && isColorBy(color, COLOR_BYS)) state.colorBy = color;
  const params: Partial<ProjectionParams> = {};
  const method = values.get("p_method");
  if (isMethod(method)) params.method = method;
  for (const field of PROJECTION_FIELDS) {
    const value = fieldValue(field, values.get(`p_${field.name}`));
    if (value !== undefined) Object.assign(params, { [field.name]: value });
  }
  if (Object.keys(params).length > 0) state.params = params;
  const layout = values.get("layout");
  if (layout !== undefined && isLayoutCode(layout)) state.layout = layout;
  const hypothesis = decodeHypothesis(values);
  if (Object.keys(hypothesis).length > 0) state.lstmvis = hypothesis;
  const display = decodeDisplay(values);
  if (Object.keys(display).length > 0) state.display = display;
  const flip = numberIn(values.get("flip"), 0, 1);
  if (flip !== undefined) state.flipThreshold = flip;
  const compare = decodeCompare(values);
  if (Object.keys(compare).length > 0) state.compare = compare;
  return state;
}

/** The short keys of the display options; the booleans as 0/1. */
const DISPLAY_KEYS = {
  labels: "lab", jumpThreshold: "jump", confidenceThreshold: "conf", pointSize: "ps", lineWidth: "lw",
  trajectoryColor: "tc", markers: "mk", allMarkers: "mka", fade: "fade", timeGradient: "grad", thickness: "thick",
  brushOnly: "bonly",
} as const satisfies Record<keyof UrlDisplay, string>;

/** The choices of the display options that are one of a few words. */
const DISPLAY_CHOICES = {
  trajectoryColor: ["class", "prediction"],
  fade: ["none", "correct", "wrong"],
  thickness: ["constant", "time", "distance"],
} as const;

/** A display option's value as its `rh_*` text. */
function displayText(name: keyof UrlDisplay, value: unknown): string {
  if (name === "labels") return (value as readonly string[]).length > 0 ? (value as readonly string[]).join(",") : "none";
  if (typeof value === "boolean") return value ? "1" : "0";
  return String(value);
}

/** `lab`, `jump`, … pairs (unprefixed) of the options that differ from the defaults. */
function encodeDisplay(display: UrlDisplay): [string, string][] {
  const pairs: [string, string][] = [];
  for (const name of Object.keys(DISPLAY_KEYS) as (keyof UrlDisplay)[]) {
    const value = display[name];
    if (value === undefined) continue;
    const text = displayText(name, value);
    if (text !== displayText(name, DEFAULT_DISPLAY[name])) pairs.push([DISPLAY_KEYS[name], text]);
  }
  return pairs;
}

/** A decimal number within [low, high], else undefined. */
function numberIn(text: string | undefined, low: number, high: number): number | undefined {
  if (text === undefined || !/^(\d+\.?\d*|\.\d+)$/.test(text)) return undefined;
  const value = Number(text);
  return value >= low && value <= high ? value : undefined;
}

/** The display options of a link, each only when well formed. */
function decodeDisplay(values: ReadonlyMap<string, string>): UrlDisplay {
  const out: UrlDisplay = {};
  const get = (name: keyof UrlDisplay) => values.get(DISPLAY_KEYS[name]);
  const labels = get("labels");
  if (labels === "none") out.labels = [];
  else if (labels !== undefined && labels.split(",").every(isLabelKind)) {
    const kinds = new Set(labels.split(","));
    out.labels = LABEL_KINDS.filter((k) => kinds.has(k));
  }
  for (const name of ["jumpThreshold", "confidenceThreshold", "pointSize", "lineWidth"] as const) {
    const [low, high] = DISPLAY_RANGES[name];
    const value = numberIn(get(name), low, high);
    if (value !== undefined) out[name] = value;
  }
  for (const name of ["markers", "allMarkers", "timeGradient", "brushOnly"] as const) {
    const text = get(name);
    if (text === "0" || text === "1") out[name] = text === "1";
  }
  const trajectoryColor = get("trajectoryColor");
  if (DISPLAY_CHOICES.trajectoryColor.some((c) => c === trajectoryColor)) out.trajectoryColor = trajectoryColor as DisplayOptions["trajectoryColor"];
  const fade = get("fade");
  if (DISPLAY_CHOICES.fade.some((c) => c === fade)) out.fade = fade as DisplayOptions["fade"];
  const thickness = get("thickness");
  if (DISPLAY_CHOICES.thickness.some((c) => c === thickness)) out.thickness = thickness as DisplayOptions["thickness"];
  return out;
}

/** `theta`, `units`, `brush`, `off` pairs (unprefixed); the defaults (θ 0.3, off 1,0) left out. */
function encodeHypothesis(hypothesis: UrlHypothesis): [string, string][] {
  const pairs: [string, string][] = [];
  if (hypothesis.theta !== undefined && hypothesis.theta !== 0.3) pairs.push(["theta", String(hypothesis.theta)]);
  if (hypothesis.units !== undefined && hypothesis.units.length > 0) pairs.push(["units", hypothesis.units.join(",")]);
  const brush = hypothesis.brush;
  if (brush !== undefined) pairs.push(["brush", `${brush.sequence}:${brush.start}:${brush.end}`]);
  const off = hypothesis.off;
  if (off !== undefined && (off[0] !== 1 || off[1] !== 0)) pairs.push(["off", `${off[0]},${off[1]}`]);
  return pairs;
}

/** The hypothesis of a link's `rh_*` values, each part only when well formed. */
function decodeHypothesis(values: ReadonlyMap<string, string>): UrlHypothesis {
  const out: UrlHypothesis = {};
  const theta = values.get("theta");
  if (theta !== undefined && /^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(theta)) out.theta = Number(theta);
  const units = values.get("units");
  if (units !== undefined) {
    const list = units.split(",").map((u) => integer(u)).filter((u): u is number => u !== undefined && u >= 0);
    if (list.length > 0) out.units = [...new Set(list)].sort((a, b) => a - b);
  }
  const brush = values.get("brush")?.split(":").map((x) => integer(x));
  if (brush?.length === 3 && brush.every((x) => x !== undefined && x >= 0)) {
    const [sequence, start, end] = brush as [number, number, number];
    if (start < end) out.brush = { sequence, start, end };
  }
  const off = values.get("off")?.split(",").map((x) => integer(x));
  if (off?.length === 2 && off.every((x) => x !== undefined && x >= 0 && x <= 10)) out.off = off as [number, number];
  return out;
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
