/**
 * Lists of steps (search hits, neighbours): clicking an item, or Enter on it,
 * focuses its sequence (`data-sequence`), ctrl/cmd adding it to the selection
 * as in the table.
 */
import type { AppState } from "../state/app_state";
import { clickSequence } from "../state/selection";
import type { Store } from "../state/store";

export function bindListFocus(list: HTMLElement, store: Store<AppState>): void {
  const focus = (event: MouseEvent | KeyboardEvent) => {
    const item = (event.target as Element).closest("li[data-sequence]") as HTMLElement | null;
    if (item !== null) store.set(clickSequence(store.get(), Number(item.dataset["sequence"]), event.ctrlKey || event.metaKey));
  };
  list.addEventListener("click", focus);
  list.addEventListener("keydown", (event) => {
    if (event.key === "Enter") focus(event);
  });
}
