/**
 * "Export data ▾" in the selection controls: the current selection (selected
 * sequences; brushed and lit steps) as CSV, all of it as JSON with the
 * checkpoint and projection parameters it came from, and the whole layout of
 * the checkpoint as CSV or NPZ from `GET /export`. The files are built by
 * domain/selection_export.ts; this view only offers them and downloads them.
 */
import { fetchLayoutExport } from "../api/routes";
import { describeError } from "../api/http";
import { finalShown } from "../domain/layout_state";
import { projectionQuery } from "../domain/model";
import { checkpointQueryOf } from "../domain/search";
import {
  pointTable,
  selectionJson,
  sequenceTable,
  toCsv,
  type SelectionInput,
  type ShownLayout,
} from "../domain/selection_export";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { h } from "../ui/dom";
import { downloadBlob, fileName } from "../ui/download";
import { exportMenu } from "../ui/export_menu";

/** The layout the projection draws for the store's checkpoint: its final one (whatever its parameters), else its provisional PCA. */
function shownLayout(state: Readonly<AppState>): ShownLayout | null {
  const data = state.data;
  if (data === null) return null;
  const projection = state.projection;
  if (projection.coords !== null && projection.checkpoint === data.key) {
    return { kind: "final", coords: projection.coords, params: projection.params, layout: projection.layout };
  }
  if (state.provisional !== null && state.provisional.key === data.key) {
    return { kind: "provisional", coords: state.provisional.coords, params: null, layout: null };
  }
  return null;
}

/** What the selection files are built from, or why there is nothing to build them from. */
function selectionInput(state: Readonly<AppState>): SelectionInput | string {
  const data = state.data;
  const checkpoint = data === null ? null : checkpointQueryOf(data);
  if (data === null || checkpoint === null) return "no checkpoint is loaded";
  return { run: checkpoint.run, tag: checkpoint.tag, data, selected: state.selected, brushed: state.brushed, lit: state.lit, layout: shownLayout(state) };
}

function nothingSelected(input: SelectionInput | string, what: "sequences" | "points" | "any"): string | null {
  if (typeof input === "string") return input;
  const sequences = input.selected.length > 0;
  const points = (input.brushed?.length ?? 0) > 0 || (input.lit?.points.length ?? 0) > 0;
  if (what === "sequences" && !sequences) return "no sequence is selected: click a point or a row of the table";
  if (what === "points" && !points) return "no step is brushed or lit: brush in the projection, or search, match or filter";
  if (what === "any" && !sequences && !points) return "nothing is selected: click or brush points, or search, match or filter";
  return null;
}

function stem(input: SelectionInput, what: string): (string | number)[] {
  return ["rnn_hidden", input.run, input.tag, `step${input.data.step}`, what];
}

/** Why the whole layout cannot be exported now (it is not the final layout of the parameters asked for), or null. */
function layoutNotFinal(state: Readonly<AppState>): string | null {
  if (state.data === null) return "no checkpoint is loaded";
  if (finalShown(state)) return null;
  const job = state.projection;
  if (job.state === "queued" || job.state === "running") return `the layout is still computing (${Math.round(100 * job.progress)}%): the export is the final layout`;
  return "the final layout of these parameters is not shown yet";
}

export function mountSelectionExport(parent: HTMLElement, store: Store<AppState>): void {
  const status = h("span", { class: "muted", role: "status", "data-testid": "selection-export-status" });

  const download = (what: string, extension: string, type: string, build: (input: SelectionInput) => string) => () => {
    const input = selectionInput(store.get());
    if (typeof input === "string") return;
    downloadBlob(fileName(stem(input, what), extension), new Blob([build(input)], { type }));
  };
  const layoutFile = (format: "csv" | "npz") => async () => {
    const state = store.get();
    const input = selectionInput(state);
    const params = state.projection.params;
    if (typeof input === "string" || params === null || !finalShown(state)) return;
    status.textContent = `Exporting the layout as ${format.toUpperCase()}…`;
    try {
      const query = projectionQuery({ run: input.run, tag: input.tag, step: input.data.step }, params);
      const blob = await fetchLayoutExport(query, format);
      downloadBlob(fileName(stem(input, params.method), format), blob);
      status.textContent = "";
    } catch (err) {
      status.textContent = `Could not export the layout: ${describeError(err)}`;
    }
  };
  const csv = "text/csv;charset=utf-8";

  const menu = exportMenu(
    "selection",
    [
      { label: "Selected sequences as CSV", id: "sequences-csv", run: download("sequences", "csv", csv, (i) => toCsv(sequenceTable(i.data, i.selected))), disabled: () => nothingSelected(selectionInput(store.get()), "sequences") },
      { label: "Brushed and lit steps as CSV", id: "points-csv", run: download("steps", "csv", csv, (i) => toCsv(pointTable(i))), disabled: () => nothingSelected(selectionInput(store.get()), "points") },
      { label: "Selection as JSON", id: "selection-json", run: download("selection", "json", "application/json", selectionJson), disabled: () => nothingSelected(selectionInput(store.get()), "any") },
      { label: "Whole layout as CSV", id: "layout-csv", run: layoutFile("csv"), disabled: () => layoutNotFinal(store.get()) },
      { label: "Whole layout as NPZ", id: "layout-npz", run: layoutFile("npz"), disabled: () => layoutNotFinal(store.get()) },
    ],
    "Export data",
  );
  // At the end of the controls' first row (run, layer, checkpoint), where it takes no height of its own.
  const field = h("div", { class: "field selection-export" }, status, menu);
  const afterCheckpoint = parent.querySelector("#tag-description");
  if (afterCheckpoint !== null && afterCheckpoint.parentElement === parent) parent.insertBefore(field, afterCheckpoint);
  else parent.append(field);
}
