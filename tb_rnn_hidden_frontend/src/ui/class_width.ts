/**
 * The width of a column of class names, shared by the tables: as wide as the
 * longest name at the tables' font (plus padding), within bounds; a longer
 * name is cut, with a tooltip.
 */
const MIN_CLASS_WIDTH = 44;
const MAX_CLASS_WIDTH = 132;
const FONT = "13px Roboto, Arial, sans-serif";

let measurer: CanvasRenderingContext2D | null = null;

/** A class column's width in px: its longest name (or header) at the table's font, plus padding, within bounds. */
export function classColumnWidth(names: readonly string[]): number {
  measurer ??= document.createElement("canvas").getContext("2d");
  if (measurer === null) return MAX_CLASS_WIDTH;
  measurer.font = FONT;
  const widest = Math.max(0, ...names.map((name) => measurer?.measureText(name).width ?? 0));
  return Math.min(MAX_CLASS_WIDTH, Math.max(MIN_CLASS_WIDTH, Math.ceil(widest) + 12));
}
