/**
 * The requests behind LSTMVis' select and match views:
 * - the focused sequence's hidden states for the unit lines, and those of the
 *   shown hits' sequences for their heat maps (`/states?sequence=`, one
 *   sequence per request, the focused one first; a few kept per checkpoint);
 * - the units of a brushed hypothesis (`/units`), asked again (debounced)
 *   when the brush, threshold or off extents change;
 * - the match query (`/matches`) on the shown checkpoint when the user asks
 *   (Match, "Run on this checkpoint"), or on each checkpoint shown while
 *   "keep" is on; its hits are lit in the projection;
 * - the query's match quality on every checkpoint of the run and tag, a few
 *   requests at a time in the background, for the "when did these units
 *   learn this" chart.
 * Older requests are aborted when superseded; every answer is written with
 * what it answers (checkpoint, query), so a stale one is never shown as current.
 */
import { describeError, isAbort } from "../api/http";
import { fetchMatches, fetchSequenceStates, fetchUnits, type CheckpointQuery } from "../api/routes";
import { hitPoints, sameUnits, validBrush } from "../domain/lstmvis";
import type { CheckpointData } from "../domain/model";
import { stepsOf, type AppState } from "../state/app_state";
import { selectionKey, type LstmvisState, type MatchQuery, type MatchRun } from "../state/lstmvis";
import type { Store } from "../state/store";

/** Hits asked for per query (LSTMVis shows its top 50). */
export const MATCH_LIMIT = 50;
/**
 * State values kept per checkpoint (8M float32, 32 MiB): the focused sequence's
 * always, the hits' sequences in rank order while they fit.
 */
export const MAX_KEPT_STATE_VALUES = 8_000_000;
const UNITS_DEBOUNCE_MS = 150;
/** Quality requests in flight at once (the server has a handful of answer slots). */
const QUALITY_CONCURRENCY = 2;


function checkpointOf(state: Readonly<AppState>, data: CheckpointData): CheckpointQuery | null {
  if (state.run === null || state.tag === null) return null;
  return { run: state.run, tag: state.tag, step: data.step };
}

function patchLstmvis(store: Store<AppState>, patch: Partial<LstmvisState>): void {
  store.set({ lstmvis: { ...store.get().lstmvis, ...patch } });
}

/**
 * The sequences whose states the views draw, in the order they are read: the
 * focused one, then the shown hits' sequences in rank order while their
 * values fit MAX_KEPT_STATE_VALUES. None while LSTMVis' row is closed.
 */
export function wantedSequences(state: Readonly<AppState>): number[] {
  const data = state.data;
  if (data === null || !state.lstmvis.open) return [];
  const { lengths, state_size: units, num_sequences: count } = data.meta;
  const wanted = state.focus !== null && state.focus < count ? [state.focus] : [];
  let values = wanted.length > 0 ? (lengths[wanted[0] as number] ?? 0) * units : 0;
  const run = state.lstmvis.matches;
  const hits = run !== null && run.checkpoint === data.key ? (run.response?.matches ?? []) : [];
  for (const { sequence } of hits) {
    if (sequence >= count || wanted.includes(sequence)) continue;
    values += (lengths[sequence] ?? 0) * units;
    if (values > MAX_KEPT_STATE_VALUES) break;
    wanted.push(sequence);
  }
  return wanted;
}

/**
 * The wanted sequences' states into `lstmvis.states`, one `/states?sequence=`
 * request at a time. A request for a sequence no longer first in line is
 * aborted; the rows of sequences no longer wanted are dropped once the kept
 * ones pass MAX_KEPT_STATE_VALUES, and all of them with the checkpoint.
 */
function followStates(store: Store<AppState>): void {
  let checkpointKey: string | null = null;
  let kept = new Map<number, Float32Array>();
  const failed = new Map<number, string>();
  let numUnits = 0;
  let inFlight: { sequence: number; controller: AbortController } | null = null;
  const publish = (focus: number | null) => {
    const states = checkpointKey === null ? null : { checkpoint: checkpointKey, numUnits, bySequence: new Map(kept) };
    patchLstmvis(store, { states, statesError: focus === null ? null : (failed.get(focus) ?? null) });
  };
  const dropUnwanted = (wanted: readonly number[]) => {
    let values = 0;
    for (const rows of kept.values()) values += rows.length;
    for (const sequence of [...kept.keys()]) {
      if (values <= MAX_KEPT_STATE_VALUES) break;
      if (wanted.includes(sequence)) continue;
      values -= (kept.get(sequence) as Float32Array).length;
      kept.delete(sequence);
    }
  };
  const update = async () => {
    const state = store.get();
    const data = state.data;
    const key = data?.key ?? null;
    const newCheckpoint = key !== checkpointKey;
    if (newCheckpoint) {
      inFlight?.controller.abort();
      inFlight = null;
      checkpointKey = key;
      kept = new Map();
      failed.clear();
      numUnits = data?.meta.state_size ?? 0;
    }
    // Published after the next request is on its way (the views redraw in between).
    const stale = newCheckpoint || state.lstmvis.statesError !== (state.focus === null ? null : (failed.get(state.focus) ?? null));
    const wanted = wantedSequences(state);
    const next = wanted.find((sequence) => !kept.has(sequence) && !failed.has(sequence));
    if (inFlight !== null && inFlight.sequence === next) return stale ? publish(state.focus) : undefined;
    inFlight?.controller.abort();
    inFlight = null;
    const checkpoint = data === null ? null : checkpointOf(state, data);
    if (next === undefined || checkpoint === null) return stale ? publish(state.focus) : undefined;
    const controller = new AbortController();
    inFlight = { sequence: next, controller };
    const answer = fetchSequenceStates(checkpoint, next, controller.signal);
    if (stale) publish(state.focus);
    try {
      const array = await answer;
      if (controller.signal.aborted) return;
      numUnits = array.shape[1] ?? numUnits;
      kept.set(next, array.data instanceof Float32Array ? array.data : Float32Array.from(array.data));
      dropUnwanted(wantedSequences(store.get()));
    } catch (err) {
      if (controller.signal.aborted || isAbort(err)) return;
      failed.set(next, `Could not read the hidden states of sequence ${next}: ${describeError(err)}`);
    }
    inFlight = null;
    publish(store.get().focus);
    void update(); // the next wanted sequence
  };
  store.subscribe((state, previous) => {
    const moved = state.data !== previous.data || state.focus !== previous.focus;
    if (state.focus !== previous.focus && state.focus !== null) failed.delete(state.focus); // focused again: asked again
    if (moved || state.lstmvis.open !== previous.lstmvis.open || state.lstmvis.matches !== previous.lstmvis.matches) void update();
  });
  void update();
}

/** `/units` for the brushed hypothesis, whenever it changes (debounced). */
function followUnits(store: Store<AppState>): void {
  // A link that carries units keeps them: its brush is not asked again until it changes.
  let asked = store.get().lstmvis.units.length > 0 ? selectionKey(store.get().lstmvis) : "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | null = null;
  const ask = async (key: string) => {
    const state = store.get();
    const { brush, threshold, offBefore, offAfter } = state.lstmvis;
    const data = state.data;
    if (brush === null || data === null || selectionKey(state.lstmvis) !== key) return;
    const checkpoint = checkpointOf(state, data);
    if (checkpoint === null) return;
    inFlight?.abort();
    const length = data.meta.lengths[brush.sequence] ?? 0;
    if (validBrush(brush, length) === null) {
      // A link's brush on a sequence this checkpoint lacks or that is shorter: say so, ask nothing.
      const error = `steps ${brush.start}–${brush.end - 1} of sequence ${brush.sequence} are not in this checkpoint (${length} steps)`;
      return patchLstmvis(store, { unitsRequest: { status: "failed", key, error, step: data.step } });
    }
    const controller = new AbortController();
    inFlight = controller;
    patchLstmvis(store, { unitsRequest: { status: "loading", key, error: null, step: data.step } });
    try {
      const query = { sequence: brush.sequence, start: brush.start, end: brush.end, threshold, off_before: offBefore, off_after: offAfter };
      const answer = await fetchUnits(checkpoint, query, controller.signal);
      if (controller.signal.aborted) return;
      const units = sameUnits(answer.units, store.get().lstmvis.units) ? store.get().lstmvis.units : answer.units;
      patchLstmvis(store, { units, unitsRequest: { status: "done", key, error: null, step: data.step } });
    } catch (err) {
      if (controller.signal.aborted || isAbort(err)) return;
      patchLstmvis(store, { unitsRequest: { status: "failed", key, error: describeError(err), step: data.step } });
    }
  };
  store.subscribe((state) => {
    const key = selectionKey(state.lstmvis);
    if (key === asked || state.data === null) return;
    asked = key;
    clearTimeout(timer);
    inFlight?.abort();
    if (key === "") return;
    timer = setTimeout(() => void ask(key), UNITS_DEBOUNCE_MS);
  });
}

/** The lit points of a done run on the shown checkpoint. */
function litOf(run: MatchRun, data: CheckpointData): AppState["lit"] {
  const hits = run.response?.matches ?? [];
  const points = hitPoints(hits, data.pointSequence.length);
  return { points, source: "matches", label: `${points.length} match steps lit (${hits.length} hits, step ${run.step})` };
}

/** `/matches` on the shown checkpoint: on request, and on every checkpoint change while `keep` is on. */
function followMatches(store: Store<AppState>, record: (key: string, step: number, quality: number | null) => void): void {
  let inFlight: AbortController | null = null;
  const run = async (query: MatchQuery) => {
    const state = store.get();
    const data = state.data;
    const checkpoint = data === null ? null : checkpointOf(state, data);
    if (data === null || checkpoint === null) return;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const base = { checkpoint: data.key, step: data.step, query };
    patchLstmvis(store, { matches: { ...base, status: "loading", response: null, error: null } });
    try {
      const response = await fetchMatches(checkpoint, { ...query, limit: MATCH_LIMIT }, controller.signal);
      if (controller.signal.aborted) return;
      const done: MatchRun = { ...base, status: "done", response, error: null };
      const now = store.get();
      const current = now.data?.key === data.key;
      store.set({ lstmvis: { ...now.lstmvis, matches: done }, ...(current ? { lit: litOf(done, data) } : {}) });
      record(qualityKey(now, query), data.step, response.quality);
    } catch (err) {
      if (controller.signal.aborted || isAbort(err)) return;
      patchLstmvis(store, { matches: { ...base, status: "failed", response: null, error: describeError(err) } });
    }
  };
  store.subscribe((state, previous) => {
    const { query, runRequest, keep } = state.lstmvis;
    if (query === null) return;
    const asked = runRequest !== previous.lstmvis.runRequest;
    const moved = state.data !== previous.data && state.data !== null && keep;
    if (asked || moved) void run(query);
  });
}

/** The quality chart's key: the run, tag and query. */
function qualityKey(state: Readonly<AppState>, query: MatchQuery): string {
  return JSON.stringify([state.run, state.tag, query.units, query.threshold, query.offBefore, query.offAfter]);
}

/** The query's quality on every checkpoint of the run and tag, a few requests at a time. */
function followQuality(store: Store<AppState>): (key: string, step: number, quality: number | null) => void {
  let running: AbortController | null = null;
  const record = (key: string, step: number, quality: number | null) => {
    const chart = store.get().lstmvis.quality;
    if (chart === null || chart.key !== key) return;
    patchLstmvis(store, { quality: { ...chart, byStep: { ...chart.byStep, [String(step)]: quality } } });
  };
  const start = (state: Readonly<AppState>, query: MatchQuery) => {
    running?.abort();
    const controller = new AbortController();
    running = controller;
    const key = qualityKey(state, query);
    const steps = stepsOf(state);
    const { run, tag } = state as { run: string; tag: string };
    const before = store.get().lstmvis.quality;
    const byStep = before !== null && before.key === key ? before.byStep : {}; // new checkpoints: keep the known ones
    patchLstmvis(store, { quality: { key, byStep, total: steps.length } });
    const queue = [...steps];
    const worker = async () => {
      for (let step = queue.shift(); step !== undefined; step = queue.shift()) {
        if (controller.signal.aborted) return;
        if (store.get().lstmvis.quality?.byStep[String(step)] !== undefined) continue;
        try {
          const answer = await fetchMatches({ run, tag, step }, { ...query, limit: MATCH_LIMIT }, controller.signal);
          record(key, step, answer.quality);
        } catch (err) {
          if (controller.signal.aborted || isAbort(err)) return;
          record(key, step, null);
        }
      }
    };
    for (let k = 0; k < QUALITY_CONCURRENCY; k++) void worker();
  };
  store.subscribe((state, previous) => {
    const query = state.lstmvis.query;
    if (query === null || state.run === null || state.tag === null) return;
    const key = qualityKey(state, query);
    const changed = state.lstmvis.quality?.key !== key;
    const newSteps = stepsOf(state).length !== stepsOf(previous).length;
    if (changed || newSteps) start(state, query);
  });
  return record;
}

export function startLstmvis(store: Store<AppState>): void {
  followStates(store);
  followUnits(store);
  followMatches(store, followQuality(store));
}
