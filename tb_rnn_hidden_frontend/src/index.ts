/**
 * Entry point of the rnn_hidden dynamic plugin.
 *
 * TensorBoard loads `/data/plugin_entry.html?name=rnn_hidden` in an iframe,
 * which imports this module and calls `render()` once, with no arguments.
 */
import { ApiError, fetchSequences, fetchTags, type TagsResponse } from "./api";
import { h } from "./dom";
import { createStore, EMPTY_SELECTION, normalizeSelection, type Selection } from "./store";
import { injectStyles } from "./styles";
import { mountControls } from "./views/controls";
import { mountSummary } from "./views/summary";

export const EMPTY_MESSAGE =
  "No hidden-state data was found. Log some with tb_rnn_hidden.summary.hidden_states(...)";

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

  const showMessage = (text: string | null, kind: "info" | "error" = "info") => {
    message.textContent = text ?? "";
    message.dataset["kind"] = kind;
    message.setAttribute("role", kind === "error" ? "alert" : "status");
    message.hidden = text === null;
  };

  // TensorBoard calls render() as `void m.render()`, so nothing may escape as a rejection.
  let tags: TagsResponse;
  try {
    showMessage("Loading…");
    tags = await fetchTags();
  } catch (err) {
    showMessage(describeError(err), "error");
    return;
  }
  if (Object.keys(tags).length === 0) {
    showMessage(EMPTY_MESSAGE);
    return;
  }
  showMessage(null);

  const store = createStore<Selection>(normalizeSelection(tags, EMPTY_SELECTION));
  mountControls(controls, store, tags);
  const summary = mountSummary(checkpoint);
  controls.hidden = false;

  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | null = null;

  const load = async ({ run, tag, step }: Readonly<Selection>) => {
    inFlight?.abort();
    if (run === null || tag === null || step === null) {
      summary.clear();
      checkpoint.hidden = true;
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
      showMessage(null);
    } catch (err) {
      if (controller.signal.aborted) return; // superseded by a newer selection
      summary.clear();
      checkpoint.hidden = true;
      showMessage(describeError(err), "error");
    } finally {
      if (inFlight === controller) {
        inFlight = null;
        checkpoint.removeAttribute("aria-busy");
      }
    }
  };

  store.subscribe((state) => {
    inFlight?.abort(); // its data is stale now, even before the debounced fetch starts
    clearTimeout(timer);
    timer = setTimeout(() => void load(state), FETCH_DEBOUNCE_MS);
  });
  await load(store.get());
}
