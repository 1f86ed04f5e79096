/**
 * DOM helpers. Data from the backend (run names, tags, class names, tokens) is
 * user-controlled, so it only ever enters the page as text nodes: nothing here
 * touches innerHTML.
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined>;

/** `h("td", {class: "num"}, "3")`: creates an element; string children become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** `<option>`s of `[value, text]` pairs, for a `<select>`. */
export function options(choices: Iterable<readonly [string | number, string]>): HTMLOptionElement[] {
  return [...choices].map(([value, text]) => h("option", { value }, text));
}

/** Replaces the options of `select` with `[value, text]` pairs only if they differ, so an open list is not disturbed. */
export function replaceOptions(select: HTMLSelectElement, choices: readonly (readonly [string, string])[]): void {
  const current = select.options;
  const same = current.length === choices.length && choices.every(([value, text], i) => current[i]?.value === value && current[i]?.text === text);
  if (!same) setChildren(select, ...options(choices));
}

/** Replaces all children of `parent`. */
export function setChildren(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/**
 * Sizes `canvas` to `width` x `height` CSS px at the screen's pixel density
 * and returns its cleared 2-D context in CSS px units (null without 2-D).
 */
export function sharpContext(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D | null {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return ctx;
}
