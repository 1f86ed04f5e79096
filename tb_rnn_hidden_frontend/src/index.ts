/**
 * Entry point of the rnn_hidden dynamic plugin.
 *
 * TensorBoard loads `/data/plugin_entry.html?name=rnn_hidden` in an iframe,
 * which imports this module and calls `render()` once, with no arguments.
 *
 * Data flows backend routes -> one store -> views: `tags` is polled into the
 * store (so checkpoints logged while training runs appear without a reload);
 * when the selected checkpoint changes its arrays are fetched and decoded
 * into `state.data`, then its projection is requested and polled into
 * `state.projection`. Views render from the store and write only the shared
 * selection back; they never call each other.
 */
import { ApiError, fetchSequences, fetchTags, getArray, getJson, postJson } from "./api";
import { asFloat32, checkShape, decodeCheckpoint } from "./data";
import { h } from "./dom";
import { DEFAULT_DISPLAY, DEFAULT_PROJECTION_PARAMS, fittedParams, type CheckpointData, type ProjectionParams, type ProjectionState } from "./model";
import { startPolling } from "./poll";
import {
  createStore,
  INITIAL_STATE,
  sameSelection,
  selectionOf,
  stepsOf,
  jsonEqual,
  withCheckpointData,
  withSelection,
  withTags,
  type AppState,
  type Selection,
  type Store,
} from "./store";
import { injectStyles } from "./styles";
import { followTheme } from "./theme";
import { readUrlState, watchUrlState, writeUrlState } from "./url_state";
import { mountControls } from "./views/controls";
import { mountDistances } from "./views/distances";
import { mountHeatmap } from "./views/heatmap";
import { mountInputView } from "./views/input";
import { mountOverview } from "./views/overview";
import { mountProjection } from "./views/projection";
import { mountSequenceTable } from "./views/table";

export const EMPTY_MESSAGE =
  "No hidden-state data was found. Log some with tb_rnn_hidden.summary.hidden_states(...)";

/** How often the `tags` listing is re-fetched while the page is visible (TensorBoard's reload is 5 s too). */
export const TAGS_POLL_INTERVAL_MS = 5_000;
/** A `tags` request still pending after this is abandoned, so that polling goes on. */
const TAGS_TIMEOUT_MS = 30_000;
/** Delay before fetching a checkpoint, so dragging the slider does not flood the server. */
const FETCH_DEBOUNCE_MS = 120;
/** How often a queued or running projection job is polled. */
const PROJECTION_POLL_MS = 400;
/** While playing, how long each checkpoint stays on screen once its projection is shown. */
export const PLAY_DWELL_MS = 1_500;

function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return `Unexpected error: ${err.message}`;
  return `Unexpected error: ${String(err)}`;
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The route parameters of `params` (all of them, so the cache key is explicit). */
function projectionQuery(selection: Selection, params: ProjectionParams): Record<string, string | number> {
  return {
    run: selection.run ?? "",
    tag: selection.tag ?? "",
    step: selection.step ?? 0,
    method: params.method,
    perplexity: params.perplexity,
    seed: params.seed,
    iterations: params.iterations,
    metric: params.metric,
    align: params.align,
  };
}

/**
 * The parameters the projection of the shown checkpoint is requested with:
 * the form's, fitted to the number of points; while playing always aligned to
 * the neighbouring checkpoint, so that consecutive layouts match.
 */
function sentParams(state: Readonly<AppState>): ProjectionParams {
  const params: ProjectionParams = state.playing ? { ...state.params, align: "neighbor" } : state.params;
  return fittedParams(params, state.data?.pointSequence.length ?? 0);
}

/** Which request a `ProjectionState` answers: the checkpoint and the parameters sent. */
function projectionKey(state: Readonly<AppState>): string {
  return JSON.stringify([state.run, state.tag, state.step, sentParams(state)]);
}

interface ProjectionStatus {
  state: ProjectionState["state"];
  progress: number;
  phase: string;
  elapsed: number;
  error?: string;
  aligned_to: number | null;
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
    key: JSON.stringify([run, tag, step]),
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
 * Keeps the URL in step with the view (run, tag, step, selection, colouring,
 * parameters), and the view with a URL the user edits or pastes while the tab
 * is open. A bare `#rnn_hidden` (TensorBoard's router, on a click of the tab)
 * gets the current view written back instead of resetting it.
 */
function syncUrl(store: Store<AppState>): void {
  const write = (state: Readonly<AppState>) => {
    if (state.run === null) return;
    writeUrlState({
      run: state.run,
      ...(state.tag !== null ? { tag: state.tag } : {}),
      ...(state.step !== null ? { step: state.step } : {}),
      selected: [...state.selected],
      ...(state.focus !== null ? { focus: state.focus } : {}),
      colorBy: state.display.colorBy,
      params: state.params,
    });
  };
  store.subscribe((state, previous) => {
    if (
      sameSelection(state, previous) &&
      state.selected === previous.selected &&
      state.focus === previous.focus &&
      state.display.colorBy === previous.display.colorBy &&
      state.params === previous.params
    )
      return;
    write(state);
  });
  watchUrlState((url, hasOurs) => {
    const state = store.get();
    if (!hasOurs) {
      write(state);
      return;
    }
    const selected = url.selected ?? [];
    const params = { ...DEFAULT_PROJECTION_PARAMS, ...(url.params ?? {}) };
    const colorBy = url.colorBy ?? DEFAULT_DISPLAY.colorBy; // left out of the URL when default
    store.set({
      ...withSelection(state, { run: url.run ?? state.run, tag: url.tag ?? state.tag, step: url.step ?? state.step }),
      selected: jsonEqual(selected, state.selected) ? state.selected : selected,
      focus: url.focus ?? selected[0] ?? null,
      display: colorBy !== state.display.colorBy ? { ...state.display, colorBy } : state.display,
      params: jsonEqual(params, state.params) ? state.params : params,
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
  syncUrl(store);

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
      store.set(withCheckpointData(store.get(), data)); // every view updates synchronously
      performance.measure("rh-checkpoint-views", { start: t0, end: performance.now() });
      checkpoint.hidden = false;
      checkpointError = null;
      void project();
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
    projectionRun++; // and so is its projection
    retryWhenReachable = false;
    clearTimeout(timer);
    const selection = selectionOf(state);
    timer = setTimeout(() => void load(selection), FETCH_DEBOUNCE_MS);
  });

  // ---- the projection of the shown checkpoint: requested, polled, then its points fetched
  let projectionRun = 0;
  const project = async (retry = false) => {
    const run = ++projectionRun;
    const state = store.get();
    const data = state.data;
    if (data === null) return;
    const selection = selectionOf(state);
    const params = sentParams(state);
    const key = projectionKey(state);
    const query = projectionQuery(selection, params);
    try {
      let first = true;
      for (;;) {
        const status = await getJson<ProjectionStatus>("projection", first && retry ? { ...query, retry: 1 } : query);
        first = false;
        if (run !== projectionRun) return;
        const next: ProjectionState = {
          key,
          state: status.state,
          progress: status.progress,
          phase: status.phase,
          elapsed: status.elapsed,
          error: status.error ?? null,
          coords: null,
          alignedTo: status.aligned_to,
        };
        if (status.state === "done") {
          const points = await getArray("projection/points", query);
          if (run !== projectionRun) return;
          store.set({ projection: { ...next, coords: points.data as Float32Array } });
          return;
        }
        store.set({ projection: next });
        if (status.state !== "queued" && status.state !== "running") return;
        await sleep(PROJECTION_POLL_MS);
        if (run !== projectionRun) return;
      }
    } catch (err) {
      if (run !== projectionRun) return;
      store.set({
        projection: { ...store.get().projection, key, state: "failed", error: describeError(err), coords: null },
      });
    }
  };
  // Re-projection from the controls: new parameters, or a retry of a failed job.
  store.subscribe((state, previous) => {
    if (state.params !== previous.params && state.data !== null) void project();
  });
  controls.addEventListener("rh-retry-projection", () => void project(true));
  controls.addEventListener("rh-cancel-projection", () => {
    const state = store.get();
    if (state.data === null) return;
    // Polling stops first: the next `projection` request after a cancel would start the job again.
    const run = ++projectionRun;
    const key = projectionKey(state);
    const cancel = async () => {
      try {
        const status = await postJson<ProjectionStatus>("projection/cancel", projectionQuery(selectionOf(state), sentParams(state)));
        if (run !== projectionRun) return;
        store.set({
          projection: { ...store.get().projection, key, state: status.state, progress: status.progress, phase: status.phase, elapsed: status.elapsed, coords: null },
        });
      } catch (err) {
        // 404: no job left to cancel (it has just finished): show its result.
        if (run === projectionRun) void project();
        if (!(err instanceof ApiError && err.status === 404)) console.warn("rnn_hidden: cancel failed:", describeError(err));
      }
    };
    void cancel();
  });

  // ---- playing through checkpoints: advance once the shown one is drawn (or failed)
  let playTimer: ReturnType<typeof setTimeout> | undefined;
  let dwelling: string | null = null; // the projection key whose dwell timer runs
  store.subscribe((state, previous) => {
    const p = state.projection;
    const key = state.data !== null && state.data.step === state.step ? projectionKey(state) : null;
    if (state.playing && !previous.playing && key !== null && p.key !== key) {
      // Started on a layout of other parameters (no alignment): lay this one out aligned too, so
      // that the next checkpoint's layout has a neighbour to align to.
      void project();
    }
    // This checkpoint's own layout: right after its data arrives the store still holds the previous one's.
    const shown =
      state.playing && key !== null && p.key === key && (p.coords !== null || p.state === "failed" || p.state === "cancelled");
    if (!shown) {
      clearTimeout(playTimer);
      dwelling = null;
      return;
    }
    if (dwelling === key) return; // other changes (hover, …) do not restart the dwell
    dwelling = key;
    const steps = stepsOf(state);
    const nextStep = steps[steps.indexOf(state.step as number) + 1];
    if (nextStep === undefined) {
      store.set({ playing: false });
      return;
    }
    // Queue the next layout now: the server computes it after this one, aligned to it.
    void getJson("projection", projectionQuery({ ...selectionOf(state), step: nextStep }, sentParams(state))).catch(
      () => undefined,
    );
    playTimer = setTimeout(() => {
      dwelling = null;
      if (store.get().playing && store.get().step === state.step) store.set({ step: nextStep });
    }, PLAY_DWELL_MS);
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
