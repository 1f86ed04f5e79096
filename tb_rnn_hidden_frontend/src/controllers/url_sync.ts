/**
 * The URL and the view, kept in step: run, tag, step, selection, colouring,
 * the form's parameters and the layout shown go into the URL; a URL the user
 * edits or pastes while the tab is open goes into the store. A shared link's
 * notices (a method not offered, another layout) are said, and cleared once
 * the user moves on.
 */
import { sharedLayoutNotice, shownLayoutCode } from "../domain/layout_state";
import { DEFAULT_DISPLAY, DEFAULT_PROJECTION_PARAMS, DEFAULT_TABLE, type DisplayOptions, type ProjectionParams, type TableState } from "../domain/model";
import { jsonEqual, sameSelection, selectionOf, withSelection, type AppState, type Selection } from "../state/app_state";
import type { Store } from "../state/store";
import { watchUrlState, writeUrlState, type UrlCompare, type UrlDisplay, type UrlHypothesis, type UrlState } from "../state/url_state";
import { INITIAL_LSTMVIS, type LstmvisState } from "../state/lstmvis";
import { DEFAULT_CHANGES, type CompareState } from "../state/compare";
import { sameUnits } from "../domain/lstmvis";
import { repairMethod } from "./server_info";

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
    lstmvis: hypothesisOf(state.lstmvis),
    display: displayOf(state.display),
    flipThreshold: state.table.flipThreshold,
    compare: compareOf(state.compare),
  };
}

/** Compare mode as the URL keeps it. */
function compareOf(c: Readonly<CompareState>): UrlCompare {
  return {
    on: c.on,
    ...(c.b.run !== null ? { run: c.b.run } : {}),
    ...(c.b.tag !== null ? { tag: c.b.tag } : {}),
    ...(c.b.step !== null ? { step: c.b.step } : {}),
    filter: c.changes.filter,
    sortKey: c.changes.sortKey,
    descending: c.changes.descending,
  };
}

/** The store's compare state with a link's (B and the change table; off where the link says nothing). */
export function compareOfUrl(c: Readonly<CompareState>, url: UrlState): CompareState {
  const u = url.compare ?? {};
  const b = { ...c.b, run: u.run ?? c.b.run, tag: u.tag ?? c.b.tag, step: u.step ?? c.b.step };
  const changes = {
    ...c.changes,
    filter: u.filter ?? DEFAULT_CHANGES.filter,
    sortKey: u.sortKey ?? DEFAULT_CHANGES.sortKey,
    descending: u.descending ?? DEFAULT_CHANGES.descending,
  };
  const same = b.run === c.b.run && b.tag === c.b.tag && b.step === c.b.step;
  const sameChanges = jsonEqual(changes, c.changes);
  if (same && sameChanges && Boolean(u.on) === c.on) return c as CompareState;
  return { ...c, on: Boolean(u.on), b: same ? c.b : b, changes: sameChanges ? c.changes : changes, ...(same ? {} : { answer: null, error: null }) };
}

/** The display options the URL keeps besides the colouring (`rh_color`). */
function displayOf(display: Readonly<DisplayOptions>): UrlDisplay {
  const { colorBy, ...rest } = display;
  void colorBy;
  return rest;
}

/** The display options of a link: its values over the defaults (`rh_color` is `colorBy`). */
export function displayOfUrl(url: UrlState): DisplayOptions {
  return { ...DEFAULT_DISPLAY, ...(url.display ?? {}), ...(url.colorBy !== undefined ? { colorBy: url.colorBy } : {}) };
}

/** The table's state with a link's flip threshold (the default where the link says nothing). */
export function tableOfUrl(table: Readonly<TableState>, url: UrlState): TableState {
  const flipThreshold = url.flipThreshold ?? DEFAULT_TABLE.flipThreshold;
  return flipThreshold === table.flipThreshold ? table : { ...table, flipThreshold };
}

/** The select view's hypothesis as the URL keeps it. */
function hypothesisOf(s: Readonly<LstmvisState>): UrlHypothesis {
  return {
    theta: s.threshold,
    units: [...s.units],
    ...(s.brush !== null ? { brush: { ...s.brush } } : {}),
    off: [s.offBefore, s.offAfter],
  };
}

/** Whether the parts of compare mode the URL keeps changed. */
function compareMoved(a: Readonly<CompareState>, b: Readonly<CompareState>): boolean {
  return a.on !== b.on || a.b.run !== b.b.run || a.b.tag !== b.b.tag || a.b.step !== b.b.step || a.changes !== b.changes;
}

/** Whether the parts of the hypothesis the URL keeps changed. */
function hypothesisMoved(a: Readonly<LstmvisState>, b: Readonly<LstmvisState>): boolean {
  return a.brush !== b.brush || a.threshold !== b.threshold || a.units !== b.units || a.offBefore !== b.offBefore || a.offAfter !== b.offAfter;
}

/** The store's LSTMVis state with a link's hypothesis (defaults where the link says nothing). */
export function withUrlHypothesis(s: Readonly<LstmvisState>, url: UrlHypothesis): LstmvisState {
  const units = url.units ?? [];
  return {
    ...s,
    threshold: url.theta ?? INITIAL_LSTMVIS.threshold,
    units: sameUnits(units, s.units) ? s.units : units,
    brush: url.brush ?? null,
    offBefore: url.off?.[0] ?? INITIAL_LSTMVIS.offBefore,
    offAfter: url.off?.[1] ?? INITIAL_LSTMVIS.offAfter,
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
export function syncUrl(store: Store<AppState>, opened: UrlState): void {
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
        state.display !== previous.display || state.table.flipThreshold !== previous.table.flipThreshold ||
        state.projection !== previous.projection || compareMoved(state.compare, previous.compare) ||
        hypothesisMoved(state.lstmvis, previous.lstmvis)) {
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
    // Left out of the URL where default.
    const display = displayOfUrl(url);
    link = url.layout !== undefined ? { code: url.layout, params, selection: null } : null;
    store.set({
      ...withSelection(state, { run: url.run ?? state.run, tag: url.tag ?? state.tag, step: url.step ?? state.step }),
      selected: jsonEqual(selected, state.selected) ? state.selected : selected,
      focus: url.focus ?? selected[0] ?? null,
      display: jsonEqual(display, state.display) ? state.display : display,
      table: tableOfUrl(state.table, url),
      params,
      linkNotices: notice !== null ? [notice] : [],
      lstmvis: withUrlHypothesis(state.lstmvis, url.lstmvis ?? {}),
      compare: compareOfUrl(state.compare, url),
    });
  });
}
