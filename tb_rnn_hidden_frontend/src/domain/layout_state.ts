/**
 * Which layout the projection draws, and what the tab says about it.
 *
 * A checkpoint's points can be drawn at three kinds of positions: its own
 * final layout (the projection it asked for), its provisional layout (its own
 * PCA, served at once while the projection computes), or, until one of those
 * arrives, the layout already on screen, of another checkpoint or of other
 * parameters ("stale"). `chooseLayout` makes that decision from the store
 * and what the view draws; the texts below say which layout is shown, how it
 * was made (method, parameters, iterations run, alignment, quality) and what
 * is computing. Pure, so Node tests cover every case.
 */
import type { LayoutInfo } from "../api/types";
import { formatFixed } from "./format";
import {
  DEFAULT_PROJECTION_PARAMS,
  METHOD_LABELS,
  PROJECTION_FIELDS,
  fieldsOf,
  fittedParams,
  isMethod,
  type CheckpointData,
  type ProjectionParams,
  type ProjectionState,
  type ProvisionalLayout,
} from "./model";

/** `CheckpointData.key`: JSON of the run, tag and step. */
export function checkpointKey(run: string | null, tag: string | null, step: number | null): string {
  return JSON.stringify([run, tag, step]);
}

/** The run and tag of a `checkpointKey`. */
function runAndTag(key: string): [string | null, string | null] {
  const [run, tag] = JSON.parse(key) as [string | null, string | null, number | null];
  return [run, tag];
}

/** `ProjectionState.key`: JSON of the checkpoint and the parameters sent. */
export function requestKey(run: string | null, tag: string | null, step: number | null, params: ProjectionParams): string {
  return JSON.stringify([run, tag, step, params]);
}

/** The part of the app state that decides which projection is wanted (state/app_state.ts's AppState has it). */
export interface WantedProjection {
  readonly run: string | null;
  readonly tag: string | null;
  readonly step: number | null;
  readonly playing: boolean;
  readonly playAligned: boolean;
  readonly params: ProjectionParams;
  readonly data: CheckpointData | null;
  readonly projection: ProjectionState;
}

/**
 * The parameters the projection of the shown checkpoint is requested with:
 * the form's, fitted to the number of points; aligned to the neighbouring
 * checkpoint while Play's layouts are shown (`playAligned`), so that
 * consecutive layouts match.
 */
export function sentParams(state: WantedProjection): ProjectionParams {
  const params: ProjectionParams = state.playing || state.playAligned ? { ...state.params, align: "neighbor" } : state.params;
  return fittedParams(params, state.data?.pointSequence.length ?? 0);
}

/** Which request a `ProjectionState` answers: the checkpoint and the parameters sent. */
export function projectionKey(state: WantedProjection): string {
  return requestKey(state.run, state.tag, state.step, sentParams(state));
}

/**
 * The request whose layout belongs with the data in the store: the data's own
 * checkpoint (while another one loads, `state.step` is already the next one's)
 * with the parameters asked for; null without data.
 */
export function dataRequestKey(state: WantedProjection): string | null {
  if (state.data === null) return null;
  const [run, tag] = runAndTag(state.data.key);
  return requestKey(run, tag, state.data.step, sentParams(state));
}

/** True when the store holds the final layout of the shown checkpoint with the parameters asked for. */
export function finalShown(state: WantedProjection): boolean {
  return state.data !== null && state.projection.coords !== null && state.projection.key === projectionKey(state);
}

/** The `rh_layout` code of the shown final layout, or undefined while there is none. */
export function shownLayoutCode(state: WantedProjection): string | undefined {
  if (!finalShown(state) || state.projection.params === null) return undefined;
  return layoutCode(state.projection.layout, state.projection.params.method);
}

export type LayoutKind = "final" | "provisional" | "stale" | "none";

/** A layout the view can draw: whose it is, what it is, and its coordinates. */
export interface LayoutSource {
  readonly kind: "final" | "provisional";
  /** The `CheckpointData.key` of the checkpoint it lays out. */
  readonly checkpoint: string;
  readonly step: number;
  /** Final: the `ProjectionState.key` it answers; provisional: "". */
  readonly request: string;
  /** Final: the parameters it was computed with; provisional: null (PCA). */
  readonly params: ProjectionParams | null;
  readonly layout: LayoutInfo | null;
  readonly coords: Float32Array;
}

/** What the projection draws: `source`, as the layout of kind `kind`. */
export interface LayoutChoice {
  readonly kind: LayoutKind;
  readonly source: LayoutSource | null;
  /** For "stale": the layout on screen is another checkpoint's, or this one's with other parameters. */
  readonly staleOf: "checkpoint" | "params" | null;
}

const NONE: LayoutChoice = { kind: "none", source: null, staleOf: null };

/** The store's projection as a drawable layout, once its coordinates are in. */
export function finalSource(projection: ProjectionState): LayoutSource | null {
  if (projection.coords === null || projection.step === null) return null;
  return {
    kind: "final",
    checkpoint: projection.checkpoint,
    step: projection.step,
    request: projection.key,
    params: projection.params,
    layout: projection.layout,
    coords: projection.coords,
  };
}

export function provisionalSource(provisional: ProvisionalLayout | null): LayoutSource | null {
  if (provisional === null) return null;
  return {
    kind: "provisional",
    checkpoint: provisional.key,
    step: provisional.step,
    request: "",
    params: null,
    layout: null,
    coords: provisional.coords,
  };
}

/**
 * The layout to draw for checkpoint `checkpoint` whose wanted projection is
 * `wanted` (a `ProjectionState.key`), in this order: its final layout; the
 * layout on screen when it is this checkpoint's with other parameters (a
 * faithful layout of the same states beats a PCA); its provisional layout;
 * the layout on screen when it lays out the same points (`sameProbe`: the same
 * sequence lengths), marked stale; else nothing.
 */
export function chooseLayout(input: {
  checkpoint: string | null;
  wanted: string | null;
  final: LayoutSource | null;
  provisional: LayoutSource | null;
  shown: LayoutSource | null;
  sameProbe: boolean;
}): LayoutChoice {
  const { checkpoint, wanted, final, provisional, shown, sameProbe } = input;
  if (checkpoint === null) return NONE;
  if (final !== null && final.request === wanted && final.checkpoint === checkpoint) {
    return { kind: "final", source: final, staleOf: null };
  }
  const onScreen = shown !== null && sameProbe ? shown : null;
  if (onScreen !== null && onScreen.checkpoint === checkpoint && onScreen.kind === "final") {
    return { kind: "stale", source: onScreen, staleOf: "params" };
  }
  if (provisional !== null && provisional.checkpoint === checkpoint) {
    return { kind: "provisional", source: provisional, staleOf: null };
  }
  if (onScreen !== null && onScreen.checkpoint === checkpoint) {
    return { kind: "provisional", source: onScreen, staleOf: null };
  }
  if (onScreen !== null) return { kind: "stale", source: onScreen, staleOf: "checkpoint" };
  return NONE;
}

/** Whether two checkpoints have the same points (the same probe set: equal sequence lengths). */
export function sameLengths(a: Int32Array | null, b: Int32Array | null): boolean {
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- Texts ------------------------------------------------------------------

export function methodLabel(method: string | null | undefined): string {
  return isMethod(method) ? METHOD_LABELS[method] : (method ?? "?");
}

/** The parameters of `params`' method, as "perplexity 30 · seed 0 · euclidean" (alignment is said apart). */
export function paramsText(params: ProjectionParams): string {
  return fieldsOf(params.method)
    .filter((field) => field.name !== "align")
    .map((field) => (field.name === "metric" ? String(params.metric) : `${field.label} ${params[field.name]}`))
    .join(" · ");
}

/** The method's own parameters (perplexity; n_neighbors, min_dist), and the others where not at their default. */
export function keyParamsText(params: ProjectionParams): string {
  const main: Record<string, readonly string[]> = { tsne: ["perplexity"], umap: ["n_neighbors", "min_dist"], pca: [] };
  return fieldsOf(params.method)
    .filter((field) => field.name !== "align" && field.name !== "iterations")
    .filter((field) => main[params.method]?.includes(field.name) || params[field.name] !== DEFAULT_PROJECTION_PARAMS[field.name])
    .map((field) => (field.name === "metric" ? String(params.metric) : `${field.label} ${params[field.name]}`))
    .join(", ");
}

/** The parameters in which `a` differs from `b`, as "perplexity 30" (the method first when it differs). */
export function paramsDifference(a: ProjectionParams, b: ProjectionParams): string {
  if (a.method !== b.method) return METHOD_LABELS[a.method];
  const parts = PROJECTION_FIELDS.filter((field) => field.methods.includes(a.method) && a[field.name] !== b[field.name]).map(
    (field) => (field.name === "align" ? (a.align === "neighbor" ? "alignment" : "no alignment") : `${field.label} ${a[field.name]}`),
  );
  return parts.length > 0 ? parts.join(", ") : "other parameters";
}

/** Where the layout started: "aligned to step 3 (warm start)", "cold", … */
export function alignmentText(layout: LayoutInfo | null, align: ProjectionParams["align"] | null): string {
  const to = layout?.aligned_to;
  const mode = layout?.mode;
  if (to === null || to === undefined) {
    return align === "neighbor" ? "cold (no neighbour's layout to start from)" : "cold";
  }
  if (mode === "warm") return `aligned to step ${to} (warm start)`;
  if (mode === "rotated") return `aligned to step ${to} (rotated onto it)`;
  if (mode === "relayout") {
    const warm = formatFixed(layout?.warm_trustworthiness, 3, null);
    return `aligned to step ${to} (re-laid out${warm !== null ? `: a warm start reached trustworthiness ${warm} only` : ""})`;
  }
  return `aligned to step ${to}`;
}

/**
 * The t-SNE iterations actually run: "250 + 500 iterations, converged" (early
 * exaggeration + the rest, as `layoutDetails` explains); null for other methods.
 */
export function iterationsText(layout: LayoutInfo | null): string | null {
  if (layout === null || typeof layout.iterations !== "number") return null;
  const early = layout.early_exaggeration_iterations ?? 0;
  const run = `${early > 0 ? `${early} + ` : ""}${layout.iterations} iterations`;
  if (layout.converged === true) return `${run}, converged`;
  if (layout.converged === false) return `${run}, not converged (the maximum)`;
  return run;
}

/** The quality figures: "trustworthiness 0.997 · KL 0.472". */
export function qualityText(layout: LayoutInfo | null): string | null {
  const parts: string[] = [];
  const trust = formatFixed(layout?.trustworthiness, 3, null);
  if (trust !== null) parts.push(`trustworthiness ${trust}`);
  const kl = formatFixed(layout?.kl_divergence, 3, null);
  if (kl !== null) parts.push(`KL ${kl}`);
  return parts.length > 0 ? parts.join(" · ") : null;
}

/** How a finished layout was made, after its method: alignment, iterations, quality, time. */
export function madeText(layout: LayoutInfo | null, params: ProjectionParams | null): string {
  const parts = [alignmentText(layout, params?.align ?? null), iterationsText(layout), qualityText(layout)];
  const seconds = formatFixed(layout?.seconds, 1, null);
  if (seconds !== null) parts.push(`${seconds} s`);
  return parts.filter((p): p is string => p !== null).join(" · ");
}

/**
 * A final layout in one line, for the projection panel's status line: "t-SNE
 * of step 3 (perplexity 30) · aligned to step 4 (warm start) · 400 iterations,
 * converged · trustworthiness 0.997 · KL 0.501 · 17.7 s". Every parameter is in
 * `layoutDetails`.
 */
export function layoutDescription(source: LayoutSource): string {
  if (source.kind === "provisional") return `Provisional layout: PCA of step ${source.step}`;
  const params = source.params;
  const method = methodLabel(params?.method ?? source.layout?.method);
  const key = params !== null ? keyParamsText(params) : "";
  return `${method} of step ${source.step}${key ? ` (${key})` : ""} · ${madeText(source.layout, params)}`;
}

/** A longer explanation of the quality figures, for the status line's tooltip. */
export function layoutDetails(source: LayoutSource): string {
  if (source.kind === "provisional") {
    return "The checkpoint's own PCA, computed at once by the server, shown until its projection is done.";
  }
  const layout = source.layout;
  const lines = [
    ...(source.params !== null ? [`${methodLabel(source.params.method)}: ${paramsText(source.params)}, align ${source.params.align}.`] : []),
    "Trustworthiness (k = 10, on a fixed sample of 2,000 points): how well the 2-D neighbourhoods keep the hidden-state neighbourhoods (1 is perfect).",
  ];
  if (typeof layout?.iterations === "number") {
    const early = layout.early_exaggeration_iterations ?? 0;
    const cap = source.params?.iterations;
    lines.push(
      `Iterations: ${early > 0 ? `${early} of early exaggeration, then ` : ""}${layout.iterations}` +
        `${layout.converged === true ? ", stopped once converged" : ""}${cap !== undefined ? ` (at most ${cap})` : ""}.`,
    );
  }
  const reference = formatFixed(layout?.reference_trustworthiness, 3, null);
  if (reference !== null && layout?.aligned_to !== null && layout?.aligned_to !== undefined) {
    lines.push(
      `Reference: ${reference}, the trustworthiness of the last faithful (cold or re-laid out) layout of the chain; ` +
        "a warm start is kept only if it nearly matches it.",
    );
  }
  if (layout?.kl_divergence !== undefined && layout.kl_divergence !== null) {
    lines.push("KL: the t-SNE cost at the end (lower is better for the same data and perplexity).");
  }
  return lines.join("\n");
}

/** What the job of `projection` is doing: "t-SNE 40%, optimisation", "t-SNE queued", "t-SNE failed: …". */
export function jobText(projection: ProjectionState): string {
  const method = methodLabel(projection.params?.method);
  const background = projection.background ? " (background job)" : "";
  switch (projection.state) {
    case "queued":
      return `${method} queued${background}`;
    case "running":
      return `${method} ${Math.round(projection.progress * 100)}%${projection.phase ? `, ${projection.phase}` : ""}${background}`;
    case "done":
      return projection.coords === null ? `${method} done, loading its points` : `${method} done`;
    case "failed":
      return `${method} failed: ${projection.error ?? "unknown error"}`;
    case "cancelled":
      return `${method} cancelled`;
    case "idle":
      return `${method} requested`;
  }
}

/**
 * The notice over a layout that is not the checkpoint's final one: what is
 * shown and what is computing ("Layout of step 6 — step 1: t-SNE 40%,
 * optimisation"); null for a final layout or none.
 */
export function noticeText(choice: LayoutChoice, projection: ProjectionState, wantedParams: ProjectionParams | null, step: number | null): string | null {
  const source = choice.source;
  if (source === null || choice.kind === "final" || choice.kind === "none") return null;
  const job = jobText(projection);
  if (choice.kind === "provisional") return `Provisional layout: PCA of step ${source.step} — ${job}`;
  if (choice.staleOf === "params" && source.params !== null && wantedParams !== null) {
    if (source.params.method !== wantedParams.method) return `${METHOD_LABELS[source.params.method]} layout of step ${source.step} — ${job}`;
    return `Layout with ${paramsDifference(source.params, wantedParams)} — ${paramsDifference(wantedParams, source.params)}: ${job}`;
  }
  const what = source.kind === "provisional" ? "Provisional layout" : "Layout";
  return `${what} of step ${source.step} — step ${step ?? "?"}: ${job}`;
}

/** The status of the job in the controls: "40% · optimisation · 3.2 s", "done · aligned to step 3 (warm start) · …". */
export function controlsStatusText(projection: ProjectionState): string {
  const elapsed = `${projection.elapsed.toFixed(1)} s`;
  switch (projection.state) {
    case "queued":
      return `queued (${elapsed})${projection.background ? " · background job" : ""}`;
    case "running":
      return `${Math.round(projection.progress * 100)}% · ${projection.phase || "working"} · ${elapsed}`;
    case "done":
      return projection.coords === null ? "loading points…" : `done · ${madeText(projection.layout, projection.params)}`;
    case "failed":
      return `failed: ${projection.error ?? "unknown error"}`;
    case "cancelled":
      return "cancelled";
    case "idle":
      return "";
  }
}

/** Retry can succeed only for a failure the server calls retryable, or after a cancel. */
export function canRetry(projection: ProjectionState): boolean {
  return projection.state === "cancelled" || (projection.state === "failed" && projection.retryable);
}

// ---- The layout in the URL (`rh_layout`) --------------------------------------

const CODE = /^(tsne|pca|umap):(cold|warm|relayout|rotated|-):(-?\d+|-):(\d+|-):(\d(?:\.\d+)?|-)$/;

/**
 * The layout as the `rh_layout` URL value: `method:mode:aligned_to:iterations:trust`
 * (`-` where it has none), e.g. `tsne:warm:3:400:0.997`. A shared link then
 * says which layout its sender saw.
 */
export function layoutCode(layout: LayoutInfo | null, method: string): string {
  const mode = layout?.mode ?? "-";
  const aligned = layout?.aligned_to ?? "-";
  const iterations = typeof layout?.iterations === "number" ? String(layout.iterations) : "-";
  const trust = formatFixed(layout?.trustworthiness, 3, "-");
  return `${method}:${mode}:${aligned}:${iterations}:${trust}`;
}

export function isLayoutCode(text: string): boolean {
  return CODE.test(text);
}

/** `layoutCode` in words: "t-SNE, warm start from step 3, 400 iterations, trustworthiness 0.997". */
export function describeLayoutCode(code: string): string {
  const match = CODE.exec(code);
  if (match === null) return code;
  const [, method = "", mode = "", aligned = "", iterations = "", trust = ""] = match;
  const parts = [methodLabel(method)];
  if (aligned === "-") parts.push(mode === "-" ? "not aligned" : "cold");
  else if (mode === "warm") parts.push(`warm start from step ${aligned}`);
  else if (mode === "relayout") parts.push(`re-laid out from step ${aligned}`);
  else if (mode === "rotated") parts.push(`rotated onto step ${aligned}`);
  else parts.push(`aligned to step ${aligned}`);
  if (iterations !== "-") parts.push(`${iterations} iterations`);
  if (trust !== "-") parts.push(`trustworthiness ${trust}`);
  return parts.join(", ");
}

/** The notice when a shared link's layout differs from the one this server shows for that checkpoint. */
export function sharedLayoutNotice(step: number, linkCode: string, serverCode: string): string | null {
  if (linkCode === serverCode) return null;
  return (
    `The link was shared with another layout of step ${step} (${describeLayoutCode(linkCode)}); ` +
    `this server shows ${describeLayoutCode(serverCode)}.`
  );
}

/** The notice when a link asks for a method this server does not offer (UMAP without umap-learn). */
export function unavailableMethodNotice(method: string, reason: string | null, fallback: string): string {
  const why = reason !== null && reason !== "" ? ` (${reason})` : "";
  return `This link asks for a ${methodLabel(method)} layout, which this TensorBoard server does not offer${why}. Showing ${methodLabel(fallback)} instead.`;
}
