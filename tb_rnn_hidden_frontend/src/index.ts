/**
 * Entry point of the rnn_hidden dynamic plugin.
 *
 * TensorBoard loads `/data/plugin_entry.html?name=rnn_hidden` in an iframe,
 * which imports this module and calls `render()` once, with no arguments.
 *
 * Data flows backend routes -> one store -> views. `render()` creates the
 * store from the URL, mounts the views, and starts the controllers: the
 * server's offer (`/info`), the `tags` poller, the checkpoint loader (the
 * selected checkpoint's arrays into `state.data`), the projection jobs (its
 * layout into `state.projection` and `state.provisional`), the player and
 * the URL sync. Views render from the store and write only the shared
 * selection, the form's parameters and intents (retry, cancel, play) back;
 * they never call each other.
 */
import { startAnnotationFilter } from "./controllers/annotation_filter";
import { startCheckpointLoader } from "./controllers/checkpoint_loader";
import { startCompare } from "./controllers/compare";
import { startLstmvis } from "./controllers/lstmvis";
import { startNeighbors } from "./controllers/neighbors";
import { startSearch } from "./controllers/search";
import { drivePlay } from "./controllers/player";
import { createProjectionClient, followParams } from "./controllers/projection_jobs";
import { loadServerInfo } from "./controllers/server_info";
import { startTagsPoller } from "./controllers/tags_poller";
import { compareOfUrl, displayOfUrl, syncUrl, tableOfUrl, withUrlHypothesis } from "./controllers/url_sync";
import { createStore } from "./state/store";
import { createSideStore } from "./state/side_store";
import { INITIAL_STATE, type AppState } from "./state/app_state";
import { readUrlState } from "./state/url_state";
import { injectStyles } from "./ui/styles";
import { followTheme } from "./ui/theme";
import { mountCompareBar } from "./views/compare_bar";
import { mountControls } from "./views/controls";
import { mountDistances } from "./views/distances";
import { mountHeatmap } from "./views/heatmap";
import { mountInputView } from "./views/input";
import { mountOverview } from "./views/overview";
import { mountProjection } from "./views/projection/index";
import { createLayout, mountShell } from "./views/shell";
import { mountSequenceTable } from "./views/table";
import { mountUnits } from "./views/units";
import { mountMatches } from "./views/matches";
import { mountAnnotationFilter } from "./views/annotation_filter";
import { mountNeighbors } from "./views/neighbors";
import { mountSearch } from "./views/search";
import { mountViewExports } from "./views/export/index";
import { mountChangeTable } from "./views/change_table";
import { mountTrainingChart } from "./views/training_chart";
import { mountUnitDrift } from "./views/unit_drift";
import { mountSelectionExport } from "./views/selection_export";

export async function render(): Promise<void> {
  injectStyles();
  followTheme();
  const layout = createLayout();

  // The URL's view is the wanted selection until the first `tags` listing repairs it.
  const fromUrl = readUrlState();
  const store = createStore<AppState>({
    ...INITIAL_STATE,
    run: fromUrl.run ?? null,
    tag: fromUrl.tag ?? null,
    step: fromUrl.step ?? null,
    selected: fromUrl.selected ?? [],
    focus: fromUrl.focus ?? (fromUrl.selected?.[0] ?? null),
    display: displayOfUrl(fromUrl),
    table: tableOfUrl(INITIAL_STATE.table, fromUrl),
    params: { ...INITIAL_STATE.params, ...(fromUrl.params ?? {}) },
    compare: compareOfUrl(INITIAL_STATE.compare, fromUrl),
    // A link that carries a hypothesis opens LSTMVis' row.
    lstmvis: { ...withUrlHypothesis(INITIAL_STATE.lstmvis, fromUrl.lstmvis ?? {}), open: fromUrl.lstmvis?.units !== undefined || fromUrl.lstmvis?.brush !== undefined },
  });
  mountControls(layout.controls, store); // shows itself once the store lists some run
  mountCompareBar(layout.controls, layout.projectionB, store);
  mountSelectionExport(layout.controls, store);
  mountOverview(layout.overview, store);
  mountSequenceTable(layout.table, store);
  mountTrainingChart(layout.training, store);
  mountChangeTable(layout.changes, store);
  mountUnitDrift(layout.unitDrift, store);
  mountProjection(layout.projection, store);
  // Compare mode's B: the same view, loader and projection jobs, on B's view of the store.
  const storeB = createSideStore(store);
  mountProjection(layout.projectionB, storeB, "-b");
  mountInputView(layout.input, store);
  mountHeatmap(layout.heatmap, store);
  mountDistances(layout.distances, store);
  mountUnits(layout.units, store);
  mountMatches(layout.matches, store);
  mountSearch(layout.search, store);
  mountNeighbors(layout.neighbors, store);
  mountAnnotationFilter(layout.annotationFilter, store);
  mountShell(layout, store);
  mountViewExports(layout, store);
  syncUrl(store, fromUrl);

  const infoReady = loadServerInfo(store);
  const projections = createProjectionClient(store, infoReady);
  drivePlay(store, projections);
  const loader = startCheckpointLoader(store, projections);
  followParams(store, projections);
  const projectionsB = createProjectionClient(storeB, infoReady);
  const loaderB = startCheckpointLoader(storeB, projectionsB);
  followParams(storeB, projectionsB);
  startCompare(store);
  startLstmvis(store);
  startTagsPoller(store, () => {
    loader.serverAnswered();
    loaderB.serverAnswered();
  });
  startSearch(store);
  startNeighbors(store);
  startAnnotationFilter(store);
}
