/**
 * Entry point of the rnn_hidden dynamic plugin.
 *
 * TensorBoard loads `/data/plugin_entry.html?name=rnn_hidden` in an iframe,
 * which imports this module and calls `render()` once, with no arguments.
 *
 * Data flows backend routes -> one store -> views: `tags` is polled into the
 * store (so checkpoints logged while training runs appear without a reload),
 * the views render from the store, and the checkpoint shown is fetched
 * whenever the selection in the store changes.
 */
import { ApiError, fetchSequences, fetchTags } from "./api";
import { h } from "./dom";
import { startPolling } from "./poll";
import {
  createStore,
  INITIAL_STATE,
  sameSelection,
  selectionOf,
  withTags,
  type AppState,
  type Selection,
} from "./store";
import { injectStyles } from "./styles";
import { mountControls } from "./views/controls";
import { mountSummary } from "./views/summary";

export const EMPTY_MESSAGE =
  "No hidden-state data was found. Log some with tb_rnn_hidden.summary.hidden_states(...)";

/** How often the `tags` listing is re-fetched while the page is visible (TensorBoard's reload is 5 s too). */
export const TAGS_POLL_INTERVAL_MS = 5_000;
/** A `tags` request still pending after this is abandoned, so that polling goes on. */
const TAGS_TIMEOUT_MS = 30_000;
/** Delay before fetching a checkpoint, so dragging the slider does not flood the server. */
const FETCH_DEBOUNCE_MS = 120;

function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return `Unexpected error: ${err.message}`;
  return `Unexpected error: ${String(err)}`;
}

export async function render(): Promise<void> {
  injectStyles();
  const message = h("div", { id: "message", "data-testid": "message", role: "status", hidden: true });
  const controls = h("section", { class: "card controls", "aria-label": "Selection" });
  const checkpoint = h("section", { class: "card checkpoint", "aria-label": "Checkpoint" });
  const app = h("main", { id: "rnn-hidden-app" }, message, controls, checkpoint);
  controls.hidden = checkpoint.hidden = true;
  document.body.appendChild(app);

  const store = createStore<AppState>(INITIAL_STATE);
  mountControls(controls, store); // shows itself once the store lists some run
  const summary = mountSummary(checkpoint);

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

  // The checkpoint view: fetched when the selection changes, never on a mere `tags` poll.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | null = null;
  // The last load failed because the server was unreachable: retry once `tags` answers again.
  let retryWhenReachable = false;

  const load = async ({ run, tag, step }: Readonly<Selection>) => {
    inFlight?.abort();
    retryWhenReachable = false;
    if (run === null || tag === null || step === null) {
      summary.clear();
      checkpoint.hidden = true;
      checkpointError = null;
      updateMessage();
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    checkpoint.setAttribute("aria-busy", "true");
    try {
      const data = await fetchSequences(run, tag, step, controller.signal);
      if (controller.signal.aborted) return;
      summary.show(data);
      checkpoint.hidden = false;
      checkpointError = null;
    } catch (err) {
      if (controller.signal.aborted) return; // superseded by a newer selection
      summary.clear();
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

  store.subscribe((state, previous) => {
    if (sameSelection(state, previous)) return; // only `tags` changed
    inFlight?.abort(); // its data is stale now, even before the debounced fetch starts
    retryWhenReachable = false;
    clearTimeout(timer);
    const selection = selectionOf(state);
    timer = setTimeout(() => void load(selection), FETCH_DEBOUNCE_MS);
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
