/**
 * The annotation filter panel: "steps where <track> = <category>" or
 * "<track> in [a, b]", applied with "Light" (written to
 * `state.annotationFilter`; controllers/annotation_filter.ts lights the steps
 * it keeps) and cleared with "Clear"; how many steps are lit is shown. Hidden
 * while the checkpoint has no annotation tracks.
 */
import { formatValue, type AnnotationFilter } from "../domain/annotations";
import type { AnnotationTrack } from "../domain/model";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { h, options, setChildren } from "../ui/dom";

export function mountAnnotationFilter(parent: HTMLElement, store: Store<AppState>): void {
  const track = h("select", { id: "filter-track", "data-testid": "filter-track", "aria-label": "Annotation track" });
  const category = h("select", { id: "filter-category", "data-testid": "filter-category", "aria-label": "Category" });
  const low = h("input", { type: "number", id: "filter-low", "data-testid": "filter-low", step: "any", "aria-label": "From" });
  const high = h("input", { type: "number", id: "filter-high", "data-testid": "filter-high", step: "any", "aria-label": "To" });
  const categoryPart = h("span", {}, " = ", category);
  const rangePart = h("span", {}, " in [", low, ", ", high, "]");
  const apply = h("button", { type: "button", id: "filter-apply", "data-testid": "filter-apply" }, "Light");
  const clear = h("button", { type: "button", id: "filter-clear", "data-testid": "filter-clear" }, "Clear");
  const status = h("div", { id: "filter-status", class: "lit-status", "data-testid": "filter-status", role: "status" });
  parent.append(h("h2", {}, "Annotation filter"), h("div", { class: "search-form" }, "Steps where ", track, categoryPart, rangePart, apply, clear), status);
  let tracks: readonly AnnotationTrack[] = [];

  const chosen = () => tracks.find((t) => t.name === track.value) ?? null;
  /** The value fields of the chosen track: its categories, or its range. */
  const showTrack = () => {
    const t = chosen();
    categoryPart.hidden = t?.kind !== "categorical";
    rangePart.hidden = t?.kind !== "numeric";
    if (t?.kind === "categorical") setChildren(category, ...options(t.categories.map((c) => [c, c])));
    if (t?.kind === "numeric") {
      low.value = formatValue(t.min);
      high.value = formatValue(t.max);
    }
  };
  track.addEventListener("change", showTrack);
  apply.addEventListener("click", () => {
    const t = chosen();
    if (t === null) return;
    const filter: AnnotationFilter =
      t.kind === "categorical"
        ? { track: t.name, kind: "categorical", category: category.value }
        : { track: t.name, kind: "numeric", low: low.valueAsNumber, high: high.valueAsNumber };
    if (filter.kind === "numeric" && !(Number.isFinite(filter.low) && Number.isFinite(filter.high))) {
      status.textContent = "Enter two numbers.";
      return;
    }
    store.set({ annotationFilter: filter });
  });
  clear.addEventListener("click", () => store.set({ annotationFilter: null }));

  const render = (state: Readonly<AppState>, dataChanged: boolean) => {
    if (dataChanged) {
      tracks = state.data?.annotations ?? [];
      parent.hidden = tracks.length === 0;
      const keep = track.value;
      setChildren(track, ...options(tracks.map((t) => [t.name, t.name])));
      if (tracks.some((t) => t.name === keep)) track.value = keep;
      showTrack();
    }
    const lit = state.lit;
    const litHere = lit?.source === "filter";
    status.dataset["lit"] = String(litHere);
    status.dataset["litCount"] = litHere ? String(lit.points.length) : "0";
    status.textContent = litHere ? `Lit: ${lit.label}` : state.annotationFilter !== null ? "Another query is lit; Light to light this filter again." : "";
    clear.disabled = state.annotationFilter === null;
  };
  store.subscribe((state, previous) => {
    if (state.data !== previous.data || state.lit !== previous.lit || state.annotationFilter !== previous.annotationFilter) render(state, state.data !== previous.data);
  });
  render(store.get(), true);
}
