/**
 * The nearest-neighbour panel: the k nearest steps (in the original hidden
 * space) of the hovered step while "follow hover" is on, or of the pinned one,
 * each with its distance, sequence, step and tokens around it. The controls
 * write `state.neighbors` (controllers/neighbors.ts runs the query and lights
 * the neighbours with the query point); clicking a neighbour focuses its sequence.
 */
import type { NeighborMethod } from "../api/types";
import { formatPrecision } from "../domain/format";
import { pointName, tokenText, tokenWindow } from "../domain/search";
import type { AppState } from "../state/app_state";
import { MAX_NEIGHBORS_K, clampK, type NeighborsState } from "../state/search_state";
import type { Store } from "../state/store";
import { h, options, setChildren } from "../ui/dom";
import { bindListFocus } from "../ui/list_focus";
import { singleCharacterVocabulary, tokenWindowElement } from "../ui/token_window";

/** Tokens of context either side of a neighbour. */
const NEIGHBOR_CONTEXT = 3;

const METHODS: readonly [NeighborMethod, string][] = [["exact", "exact"], ["approximate", "approximate"]];

export function mountNeighbors(parent: HTMLElement, store: Store<AppState>): void {
  const follow = h("input", { type: "checkbox", id: "neighbors-follow", "data-testid": "neighbors-follow" });
  const k = h("input", { type: "number", id: "neighbors-k", "data-testid": "neighbors-k", min: 1, max: MAX_NEIGHBORS_K, step: 1, "aria-label": "Neighbours (k)" });
  const method = h("select", { id: "neighbors-method", "data-testid": "neighbors-method", "aria-label": "Neighbour search" }, ...options(METHODS));
  const pin = h("button", { type: "button", id: "neighbors-pin", "data-testid": "neighbors-pin", "aria-pressed": "false" }, "Pin");
  const query = h("div", { id: "neighbors-query", class: "lit-status", "data-testid": "neighbors-query", role: "status" });
  const error = h("div", { id: "neighbors-error", class: "panel-error", role: "alert", hidden: true });
  const list = h("ol", { id: "neighbors-list", class: "hit-list", "data-testid": "neighbors-list" });
  parent.append(
    h("h2", {}, "Nearest neighbours in the hidden space"),
    h(
      "div",
      { class: "search-form" },
      h("label", { title: "Ask for the neighbours of the step under the pointer (in any view)" }, follow, " of the hovered step"),
      h("label", {}, "k ", k),
      method,
      pin,
    ),
    query,
    error,
    list,
  );

  const setNeighbors = (next: Partial<NeighborsState>) => store.set({ neighbors: { ...store.get().neighbors, ...next } });
  follow.addEventListener("change", () => setNeighbors({ follow: follow.checked }));
  k.addEventListener("change", () => setNeighbors({ k: clampK(k.valueAsNumber) }));
  method.addEventListener("change", () => setNeighbors({ method: method.value as NeighborMethod }));
  pin.addEventListener("click", () => {
    const { pinned, point } = store.get().neighbors;
    setNeighbors({ pinned: pinned !== null ? null : point });
  });
  bindListFocus(list, store);

  const render = (state: Readonly<AppState>) => {
    const { data, neighbors, lit } = state;
    follow.checked = neighbors.follow;
    if (document.activeElement !== k) k.value = String(neighbors.k);
    method.value = neighbors.method;
    pin.disabled = neighbors.pinned === null && neighbors.point === null;
    pin.textContent = neighbors.pinned !== null ? "Unpin" : "Pin";
    pin.setAttribute("aria-pressed", String(neighbors.pinned !== null));
    error.hidden = neighbors.error === null;
    error.textContent = neighbors.error ?? "";
    const litHere = lit?.source === "neighbors";
    query.dataset["lit"] = String(litHere);
    query.dataset["litCount"] = litHere ? String(lit.points.length) : "0";
    const result = neighbors.result;
    if (data === null || neighbors.point === null) {
      query.textContent = neighbors.follow ? "Point at a step in any view." : "Tick “of the hovered step” and point at a step, or pin one.";
      query.dataset["point"] = "";
      setChildren(list);
      return;
    }
    const token = tokenText(data, neighbors.point);
    query.dataset["point"] = String(neighbors.point);
    query.textContent =
      `${neighbors.pinned !== null ? "Pinned: " : ""}${pointName(data, neighbors.point)}${token ? ` “${token}”` : ""}` +
      (neighbors.busy ? " · searching…" : result !== null ? ` · ${result.neighbors.length} neighbours (${result.method})` : "");
    if (result === null || result.point !== neighbors.point) {
      if (!neighbors.busy) setChildren(list);
      return;
    }
    const joined = singleCharacterVocabulary(data.vocabulary);
    setChildren(
      list,
      ...result.neighbors.map((n) => {
        const window = data.tokens !== null ? tokenWindow(data, n.sequence, n.step, n.step + 1, NEIGHBOR_CONTEXT) : null;
        return h(
          "li",
          { "data-sequence": n.sequence, "data-step": n.step, "data-point": n.point, "data-distance": n.distance, tabindex: 0, class: state.focus === n.sequence ? "focused" : undefined },
          h("span", { class: "hit-where" }, `${formatPrecision(n.distance, 4)} · seq ${n.sequence}, step ${n.step}`),
          window !== null && tokenWindowElement(window, joined),
        );
      }),
    );
  };

  store.subscribe((state, previous) => {
    if (state.neighbors !== previous.neighbors || state.data !== previous.data || state.lit !== previous.lit || state.focus !== previous.focus) render(state);
  });
  render(store.get());
}
