/**
 * Entry point of the rnn_hidden dynamic plugin.
 *
 * TensorBoard loads `/data/plugin_entry.html?name=rnn_hidden` in an iframe,
 * which imports this module and calls `render()` once, with no arguments.
 *
 * Data flows backend routes -> one store -> views: `/info` (what the server
 * offers) and `tags` are fetched into the store, `tags` polled (so checkpoints
 * logged while training runs appear without a reload); when the selected
 * checkpoint changes its arrays are fetched and decoded into `state.data`,
 * then its projection is requested and followed into `state.projection` and
 * `state.provisional` (projection_client.ts); Play advances the checkpoint
 * (play.ts). Views render from the store and write only the shared selection,
 * the form's parameters and requests (retry, cancel) back; they never call
 * each other.
 */
import { ApiError, fetchInfo, fetchSequences, fetchTags, getArray, type InfoResponse } from "./api/http";
import { asFloat32, checkShape, decodeCheckpoint } from "./domain/data";
import { h } from "./ui/dom";
import { checkpointKey, sharedLayoutNotice, shownLayoutCode, unavailableMethodNotice } from "./domain/layout_state";
import { DEFAULT_DISPLAY, DEFAULT_PROJECTION_PARAMS, METHODS, type CheckpointData, type ProjectionParams } from "./domain/model";
import { drivePlay } from "./controllers/player";
import { startPolling } from "./controllers/poll";
import { createProjectionClient, describeError } from "./controllers/projection_jobs";
import {
  createStore,
  INITIAL_STATE,
  sameSelection,
  selectionOf,
  jsonEqual,
  withCheckpointData,
  withSelection,
  withTags,
  type AppState,
  type Selection,
  type Store,
} from "./state/store";
import { injectStyles } from "./ui/styles";
import { followTheme } from "./ui/theme";
import { readUrlState, watchUrlState, writeUrlState, type UrlState } from "./state/url_state";
import { mountControls } from "./views/controls";
import { mountDistances } from "./views/distances";
import { mountHeatmap } from "./views/heatmap";
import { mountInputView } from "./views/input";
import { mountOverview } from "./views/overview";
import { mountProjection } from "./views/projection/index";
import { mountSequenceTable } from "./views/table";

export { PLAY_DWELL_MS } from "./controllers/player";

export const EMPTY_MESSAGE =
  "No hidden-state data was found. Log some with tb_rnn_hidden.summary.hidden_states(...)";

/** How often the `tags` listing is re-fetched while the page is visible (TensorBoard's reload is 5 s too). */
export const TAGS_POLL_INTERVAL_MS = 5_000;
/** A `tags` request still pending after this is abandoned, so that polling goes on. */
const TAGS_TIMEOUT_MS = 30_000;
/** Delay before fetching a checkpoint, so dragging the slider does not flood the server. */
const FETCH_DEBOUNCE_MS = 120;

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

/**
 * Fetches all arrays of one checkpoint and decodes them. User Timing measures
 * (read by bench/frontend_bench.py): `rh-checkpoint-fetch` (the four routes,
 * awaited, not main-thread time), `rh-checkpoint-decode`, and, in `load`,
 * `rh-checkpoint-views` (the new data in the store: every view updated).
 */
async function loadCheckpoint(selection: Selection, signal: AbortSignal): Promise<CheckpointData> {
  const { run, tag, step } = selection as { run: string; tag: string; step: number };
  const params = { run, tag, step };
  const t0 = performance.now();
  const meta = await fetchSequences(run, tag, step, signal);
  const [tokens, probabilities, distances] = await Promise.all([
    meta.has_tokens ? getArray("tokens", params, signal) : Promise.resolve(null),
    meta.has_probabilities ? getArray("probabilities", params, signal) : Promise.resolve(null),
    getArray("distances", params, signal),
  ]);
  const points = meta.lengths.reduce((sum, length) => sum + length, 0);
  if (tokens) checkShape("tokens", tokens.shape, [points]);
  if (probabilities) checkShape("probabilities", probabilities.shape, [points, meta.num_classes]);
  checkShape("distances", distances.shape, [points - meta.lengths.length]);
  const t1 = performance.now();
  performance.measure("rh-checkpoint-fetch", { start: t0, end: t1 });
  const decoded = decodeCheckpoint({
    key: checkpointKey(run, tag, step),
    step,
    meta,
    tokens: tokens ? (tokens.data instanceof Int32Array ? tokens.data : Int32Array.from(tokens.data)) : null,
    probabilities: probabilities ? asFloat32(probabilities.data, probabilities.dtype) : null,
    distances: asFloat32(distances.data, distances.dtype),
    maxDistance: Number(distances.headers.get("X-Max-Distance") ?? "0"),
  });
  performance.measure("rh-checkpoint-decode", { start: t1, end: performance.now() });
  return decoded;
}

function createLayout(): Record<string, HTMLElement> {
  const panel = (id: string, label: string) =>
    h("section", { id, class: "card panel", "aria-label": label, "data-testid": id });
  const panels = {
    message: h("div", { id: "message", "data-testid": "message", role: "status", hidden: true }),
    controls: h("section", { class: "card controls", "aria-label": "Selection" }),
    overview: panel("overview-panel", "Overview"),
    table: panel("table-panel", "Sequences"),
    projection: panel("projection-panel", "Projection"),
    input: panel("input-panel", "Input"),
    heatmap: panel("heatmap-panel", "Prediction over time"),
    distances: panel("distance-panel", "Step distances"),
  };
  const checkpoint = h(
    "div",
    { id: "views", class: "checkpoint" },
    h("div", { class: "column column-left" }, panels.overview, panels.table),
    h("div", { class: "column column-centre" }, panels.projection),
    h("div", { class: "column column-right" }, panels.input, panels.heatmap, panels.distances),
  );
  const app = h("main", { id: "rnn-hidden-app" }, panels.message, panels.controls, checkpoint);
  document.body.appendChild(app);
  return { ...panels, checkpoint };
}

/**
 * `params` with a method this server offers: a link's UMAP opened on a server
 * without umap-learn becomes the first offered method, and a notice says so.
 */
function repairMethod(params: ProjectionParams, info: InfoResponse | null): { params: ProjectionParams; notice: string | null } {
  if (info === null) return { params, notice: null };
  const offered = info.methods.filter((m) => m.available).map((m) => m.name);
  if (offered.includes(params.method)) return { params, notice: null };
  const fallback = METHODS.find((m) => offered.includes(m)) ?? DEFAULT_PROJECTION_PARAMS.method;
  const reason = info.methods.find((m) => m.name === params.method)?.reason ?? null;
  return { params: { ...params, method: fallback }, notice: unavailableMethodNotice(params.method, reason, fallback) };
}

/** The view as URL state: selection, colouring, the form's parameters, and the final layout on screen. */
function urlStateOf(state: Readonly<AppState>): UrlState {
  const layout = shownLayoutCode(state);
  return {
    ...(state.run !== null ? { run: state.run } : {}),
    ...(state.tag !== null ? { tag: state.tag } : {}),
    ...(state.step !== null ? { step: state.step } : {}),
    selected: [...state.selected],
    ...(state.focus !== null ? { focus: state.focus } : {}),
    colorBy: state.display.colorBy,
    params: state.params,
    ...(layout !== undefined ? { layout } : {}),
  };
}

/**
 * A shared link's `rh_layout`, until the layout it names is shown here: then
 * if this server's layout of that checkpoint differs, a notice says so. It is
 * dropped once the user looks elsewhere (another checkpoint or parameters).
 */
interface PendingLink {
  code: string;
  params: ProjectionParams;
  /** The selection the link led to, once the first listing has repaired it. */
  selection: Selection | null;
}

/** The notice for `link` once its checkpoint's final layout is in; `undefined` to keep waiting, null to drop it. */
function checkLink(link: PendingLink, state: Readonly<AppState>): string | null | undefined {
  const selection = link.selection ?? selectionOf(state);
  link.selection = selection;
  if (!sameSelection(state, selection) || state.params !== link.params) return null;
  const code = shownLayoutCode(state);
  if (code === undefined || state.step === null) return undefined;
  return sharedLayoutNotice(state.step, link.code, code);
}

/**
 * Keeps the URL in step with the view (run, tag, step, selection, colouring,
 * parameters, the layout shown), and the view with a URL the user edits or
 * pastes while the tab is open. A bare `#rnn_hidden` (TensorBoard's router, on
 * a click of the tab) gets the current view written back instead of resetting
 * it. Notices about the link (a method not offered, another layout) are
 * cleared once the user moves on.
 */
function syncUrl(store: Store<AppState>, opened: UrlState): void {
  let link: PendingLink | null =
    opened.layout !== undefined ? { code: opened.layout, params: store.get().params, selection: null } : null;
  const write = (state: Readonly<AppState>) => {
    if (state.run !== null) writeUrlState(urlStateOf(state));
  };
  // Notices change after the change that caused them has reached every listener (no nested set).
  const setNotices = (notices: readonly string[]) => queueMicrotask(() => store.set({ linkNotices: notices }));
  store.subscribe((state, previous) => {
    const moved = !sameSelection(state, previous) || state.params !== previous.params;
    if (moved && previous.data !== null && state.linkNotices.length > 0 && state.linkNotices === previous.linkNotices) {
      setNotices([]);
    }
    if (link !== null && state.data !== null) {
      const notice = checkLink(link, state);
      if (notice !== undefined) link = null;
      if (notice) setNotices([...state.linkNotices, notice]);
    }
    if (moved || state.selected !== previous.selected || state.focus !== previous.focus ||
        state.display.colorBy !== previous.display.colorBy || state.projection !== previous.projection) {
      write(state);
    }
  });
  watchUrlState((url, hasOurs) => {
    const state = store.get();
    if (!hasOurs) {
      write(state);
      return;
    }
    const selected = url.selected ?? [];
    const wanted = { ...DEFAULT_PROJECTION_PARAMS, ...(url.params ?? {}) };
    const { params: repaired, notice } = repairMethod(wanted, state.info);
    const params = jsonEqual(repaired, state.params) ? state.params : repaired;
    const colorBy = url.colorBy ?? DEFAULT_DISPLAY.colorBy; // left out of the URL when default
    link = url.layout !== undefined ? { code: url.layout, params, selection: null } : null;
    store.set({
      ...withSelection(state, { run: url.run ?? state.run, tag: url.tag ?? state.tag, step: url.step ?? state.step }),
      selected: jsonEqual(selected, state.selected) ? state.selected : selected,
      focus: url.focus ?? selected[0] ?? null,
      display: colorBy !== state.display.colorBy ? { ...state.display, colorBy } : state.display,
      params,
      linkNotices: notice !== null ? [notice] : [],
    });
  });
}

export async function render(): Promise<void> {
  injectStyles();
  followTheme();
  const layout = createLayout();
  const message = layout["message"] as HTMLElement;
  const checkpoint = layout["checkpoint"] as HTMLElement;
  const controls = layout["controls"] as HTMLElement;
  controls.hidden = checkpoint.hidden = true;

  // The URL's view is the wanted selection until the first `tags` listing repairs it.
  const fromUrl = readUrlState();
  const store = createStore<AppState>({
    ...INITIAL_STATE,
    run: fromUrl.run ?? null,
    tag: fromUrl.tag ?? null,
    step: fromUrl.step ?? null,
    selected: fromUrl.selected ?? [],
    focus: fromUrl.focus ?? (fromUrl.selected?.[0] ?? null),
    display: { ...INITIAL_STATE.display, ...(fromUrl.colorBy ? { colorBy: fromUrl.colorBy } : {}) },
    params: { ...INITIAL_STATE.params, ...(fromUrl.params ?? {}) },
  });
  mountControls(controls, store); // shows itself once the store lists some run
  mountOverview(layout["overview"] as HTMLElement, store);
  mountSequenceTable(layout["table"] as HTMLElement, store);
  mountProjection(layout["projection"] as HTMLElement, store);
  mountInputView(layout["input"] as HTMLElement, store);
  mountHeatmap(layout["heatmap"] as HTMLElement, store);
  mountDistances(layout["distances"] as HTMLElement, store);
  syncUrl(store, fromUrl);

  // What the server offers: projections wait for it, so that a link's method it lacks is replaced first.
  const infoReady = (async () => {
    try {
      const info = await fetchInfo(AbortSignal.timeout(TAGS_TIMEOUT_MS));
      const state = store.get();
      const { params, notice } = repairMethod(state.params, info);
      store.set({ info, params, ...(notice !== null ? { linkNotices: [...state.linkNotices, notice] } : {}) });
    } catch (err) {
      console.warn("rnn_hidden: could not read the server's projection methods:", describeError(err));
    }
  })();
  const projections = createProjectionClient(store, infoReady);
  drivePlay(store, projections);

  // What #message says, from the sources below; the first that applies wins.
  let tagsLoaded = false;
  let tagsError: string | null = null; // the last `tags` request failed
  let checkpointError: string | null = null; // the shown checkpoint failed to load
  const updateMessage = () => {
    let text: string | null = null;
    let kind: "info" | "error" = "info";
    if (tagsError !== null || checkpointError !== null) {
      text = tagsError ?? checkpointError;
      kind = "error";
    } else if (!tagsLoaded) {
      text = "Loading…";
    } else if (Object.keys(store.get().tags).length === 0) {
      text = EMPTY_MESSAGE;
    }
    // Unchanged text is not rewritten: a live region would announce it again.
    if (text === (message.hidden ? null : message.textContent) && message.dataset["kind"] === kind) return;
    message.textContent = text ?? "";
    message.dataset["kind"] = kind;
    message.setAttribute("role", kind === "error" ? "alert" : "status");
    message.hidden = text === null;
  };
  updateMessage();

  // ---- the checkpoint's arrays: fetched when the selection changes, never on a mere `tags` poll
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | null = null;
  // The last load failed because the server was unreachable: retry once `tags` answers again.
  let retryWhenReachable = false;

  const load = async (selection: Readonly<Selection>) => {
    inFlight?.abort();
    retryWhenReachable = false;
    if (selection.run === null || selection.tag === null || selection.step === null) {
      store.set(withCheckpointData(store.get(), null));
      checkpoint.hidden = true;
      checkpointError = null;
      updateMessage();
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    checkpoint.setAttribute("aria-busy", "true");
    try {
      const data = await loadCheckpoint(selection, controller.signal);
      if (controller.signal.aborted) return;
      const t0 = performance.now();
      // With its layout when this page has it (seen before, or fetched ahead by Play): no stale frame.
      // Another checkpoint opened by the user (not by Play): the form's parameters apply again.
      const next = { ...withCheckpointData(store.get(), data), playAligned: store.get().playing };
      const cached = projections.cached(next);
      store.set(cached !== null ? { ...next, projection: cached } : next); // every view updates synchronously
      performance.measure("rh-checkpoint-views", { start: t0, end: performance.now() });
      checkpoint.hidden = false;
      checkpointError = null;
      void projections.project();
    } catch (err) {
      if (controller.signal.aborted || isAbort(err)) return; // superseded by a newer selection
      store.set(withCheckpointData(store.get(), null));
      checkpoint.hidden = true;
      checkpointError = describeError(err);
      retryWhenReachable = err instanceof ApiError && err.status === 0;
    } finally {
      if (inFlight === controller) {
        inFlight = null;
        checkpoint.removeAttribute("aria-busy");
      }
      updateMessage();
    }
  };

  // The selection last scheduled for loading (the URL's may already be valid at the first `tags`).
  let requested: Selection | null = null;
  store.subscribe((state) => {
    if (requested !== null && sameSelection(state, requested)) return; // only `tags` or links changed
    if (!tagsLoaded) return; // the URL's selection is checked against the first listing first
    requested = selectionOf(state);
    inFlight?.abort(); // its data is stale now, even before the debounced fetch starts
    projections.stop(); // and so is its projection
    retryWhenReachable = false;
    clearTimeout(timer);
    const selection = selectionOf(state);
    timer = setTimeout(() => void load(selection), FETCH_DEBOUNCE_MS);
  });

  // Re-projection with the form's new parameters (or the form's alignment again after Play).
  store.subscribe((state, previous) => {
    const changed = state.params !== previous.params || (previous.playAligned && !state.playAligned && state.data === previous.data);
    if (changed && state.data !== null) void projections.project();
  });

  // TensorBoard calls render() as `void m.render()`, so nothing may escape as a rejection.
  const pollTags = async () => {
    try {
      const tags = await fetchTags(AbortSignal.timeout(TAGS_TIMEOUT_MS));
      tagsError = null;
      tagsLoaded = true;
      const before = store.get();
      store.set(withTags(before, tags));
      if (retryWhenReachable && sameSelection(before, store.get())) void load(store.get());
    } catch (err) {
      // The view stays as it was; the next poll may succeed and clear this.
      const detail = describeError(err);
      tagsError = tagsLoaded ? `Could not refresh the list of checkpoints: ${detail}` : detail;
    }
    updateMessage();
  };
  startPolling(pollTags, TAGS_POLL_INTERVAL_MS, document);
}
