/**
 * How a table of sequences (the sequence table, the change table) selects:
 * a click on a row selects it (ctrl/cmd toggles, shift adds the range from
 * the focus), the up and down keys move the focus one row, and the focused
 * row is kept in sight; only the rows in (and near) the scrolled window are
 * in the DOM. Both tables list their rows in their own order.
 */
import type { AppState } from "../state/app_state";
import { clickRowOf, stepRowOf } from "../state/selection";
import type { Store } from "../state/store";

export interface RowElements {
  readonly body: HTMLElement;
  readonly scroll: HTMLElement;
  /** The sticky header, which covers the top of the scrolled area. */
  readonly head: HTMLElement;
}

/** Clicks on `el.body`'s rows (`tr[attribute]`, the sequence) and arrow keys in `el.scroll` write the selection. */
export function bindRowSelection(store: Store<AppState>, el: RowElements, attribute: string, rows: () => readonly number[]): void {
  el.body.addEventListener("click", (event) => {
    const tr = (event.target as Element).closest(`tr[${attribute}]`);
    if (!tr) return;
    const i = Number(tr.getAttribute(attribute));
    store.set(clickRowOf(store.get(), i, rows, { toggle: event.ctrlKey || event.metaKey, range: event.shiftKey }));
    el.scroll.focus({ preventScroll: true });
  });
  el.scroll.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    const next = stepRowOf(store.get(), rows(), event.key === "ArrowDown");
    if (next !== null) store.set(next);
  });
}

/** Scrolls so that sequence `i`'s row (of `rows`, each `rowHeight` px) is visible under the header. */
export function revealSequence(el: RowElements, rows: readonly number[], i: number, rowHeight: number): void {
  const r = rows.indexOf(i);
  if (r < 0) return;
  const top = r * rowHeight;
  const header = el.head.getBoundingClientRect().height; // measured: a long label may wrap it
  if (top < el.scroll.scrollTop) el.scroll.scrollTop = top;
  else if (top + rowHeight > el.scroll.scrollTop + el.scroll.clientHeight - header) el.scroll.scrollTop = top + rowHeight - el.scroll.clientHeight + header;
}

/** How a table's rows are laid out: each `rowHeight` px, `overscan` rows drawn beyond the window, at least `minRows`. */
export interface RowSizes {
  readonly rowHeight: number;
  readonly overscan: number;
  readonly minRows: number;
}

/** Into `el.body`: the rows of `all` in (and near) the scrolled window, by `row`, and `spacer`s for the others. */
export function renderRowWindow(
  el: RowElements,
  all: readonly number[],
  sizes: RowSizes,
  row: (i: number) => HTMLTableRowElement,
  spacer: (rows: number) => HTMLTableRowElement,
): void {
  const { rowHeight, overscan, minRows } = sizes;
  const first = Math.max(0, Math.floor(el.scroll.scrollTop / rowHeight) - overscan);
  // As many rows as the box shows: it takes the height its column leaves.
  const last = Math.min(all.length, first + Math.max(minRows, Math.ceil(el.scroll.clientHeight / rowHeight)) + 2 * overscan);
  const trs: HTMLTableRowElement[] = [];
  if (first > 0) trs.push(spacer(first));
  for (let r = first; r < last; r++) trs.push(row(all[r] as number));
  if (all.length > last) trs.push(spacer(all.length - last));
  el.body.replaceChildren(...trs);
}
