/**
 * The "Export" menu a view puts in its corner: a button that opens a list of
 * actions (PNG, SVG, CSV, …). One implementation, so every view's menu looks
 * and behaves alike; it closes on a choice, a click elsewhere or Escape.
 */
import { h } from "./dom";
import { addStyles } from "./styles";

export interface ExportItem {
  /** What the entry says ("PNG", "Selection as CSV"). */
  readonly label: string;
  /** `data-export` of the entry, for tests ("png", "svg", "selection-csv"). */
  readonly id: string;
  readonly run: () => void | Promise<void>;
  /** Why it cannot run now (then it is disabled, with this as its title), or null. */
  readonly disabled?: () => string | null;
}

const CSS = `
.export-menu { position: relative; display: inline-block; font-size: 12px; }
.export-menu > summary { list-style: none; cursor: pointer; padding: 1px 8px; border: 1px solid var(--rh-border); border-radius: 3px; color: var(--rh-muted); user-select: none; }
.export-menu > summary::-webkit-details-marker { display: none; }
.export-menu[open] > summary { border-color: var(--rh-accent); color: var(--rh-fg); }
.export-menu [role="menu"] { position: absolute; right: 0; z-index: 20; display: flex; flex-direction: column; min-width: 150px; margin-top: 2px; padding: 4px 0; background: var(--rh-card); border: 1px solid var(--rh-border); border-radius: 3px; box-shadow: 0 2px 6px rgba(0,0,0,0.25); }
.export-menu [role="menuitem"] { border: none; border-radius: 0; text-align: left; padding: 3px 12px; background: none; white-space: nowrap; }
.export-menu [role="menuitem"]:hover:not(:disabled) { background: var(--rh-row-hover); }
`;

/** A menu of `items` labelled `title` (e.g. "Export"); `name` is its `data-export-menu` (the view it exports). */
export function exportMenu(name: string, items: readonly ExportItem[], title = "Export"): HTMLDetailsElement {
  addStyles("export-menu", CSS);
  const list = h("div", { role: "menu" });
  const menu = h("details", { class: "export-menu", "data-export-menu": name }, h("summary", { title: `${title}: ${items.map((i) => i.label).join(", ")}` }, `${title} ▾`), list);
  const buttons = items.map((item) => {
    const button = h("button", { type: "button", role: "menuitem", "data-export": item.id }, item.label);
    button.addEventListener("click", () => {
      menu.open = false;
      void item.run();
    });
    return button;
  });
  list.append(...buttons);
  menu.addEventListener("toggle", () => {
    if (!menu.open) return;
    items.forEach((item, i) => {
      const why = item.disabled?.() ?? null;
      const button = buttons[i] as HTMLButtonElement;
      button.disabled = why !== null;
      button.title = why ?? "";
    });
  });
  document.addEventListener("pointerdown", (event) => {
    if (menu.open && !menu.contains(event.target as Node)) menu.open = false;
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape") menu.open = false;
  });
  return menu;
}
