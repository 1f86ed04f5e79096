/** Keeping a row of a long, virtually scrolled table in sight. */

/**
 * Scrolls `scroll` so that row `r` (each `rowHeight` px) is visible under
 * the sticky `head`, which covers the top of the scrolled area (measured:
 * a long label may wrap it).
 */
export function revealRow(scroll: HTMLElement, head: HTMLElement, r: number, rowHeight: number): void {
  const top = r * rowHeight;
  const header = head.getBoundingClientRect().height;
  if (top < scroll.scrollTop) scroll.scrollTop = top;
  else if (top + rowHeight > scroll.scrollTop + scroll.clientHeight - header) scroll.scrollTop = top + rowHeight - scroll.clientHeight + header;
}
