/**
 * Lists of steps (search hits, neighbours): clicking an item, or Enter on it,
 * focuses its sequence (`data-sequence`), ctrl/cmd adding it to the selection
 * as in the table; pointing at one hovers its point (`data-point`) in every
 * view, with the tooltip, unless `hoverable()` says not now.
 */
import type { AppState } from "../state/app_state";
import { clickSequence } from "../state/selection";
import type { Store } from "../state/store";
import { bindPointHover } from "./hover";

export function bindListFocus(list: HTMLElement, store: Store<AppState>, hoverable: () => boolean = () => true): void {
  const focus = (event: MouseEvent | KeyboardEvent) => {
    const item = (event.target as Element).closest("li[data-sequence]") as HTMLElement | null;
    if (item !== null) store.set(clickSequence(store.get(), Number(item.dataset["sequence"]), event.ctrlKey || event.metaKey));
  };
  list.addEventListener("click", focus);
  list.addEventListener("keydown", (event) => {
    if (event.key === "Enter") focus(event);
  });
  bindPointHover(store, list, {
    on: "pointerover",
    hitAt: (event) => {
      const item = (event.target as Element).closest("li[data-point]") as HTMLElement | null;
      const data = store.get().data;
      const point = Number(item?.dataset["point"]);
      if (item === null || data === null || !hoverable() || !(point >= 0 && point < data.pointSequence.length)) return null;
      return { point, data };
    },
  });
}
