/**
 * A panel of the tab written as SVG from what the browser laid out: each
 * visible element's background (colour or left-to-right gradient) and
 * borders as rectangles and lines, each line of text as a `<text>` where the
 * browser placed it, form controls as their value, and canvases as the
 * vectors their own drawing code draws once more (canvas_tape.ts) or, failing that, as their
 * pixels. Overflowing content is clipped as on screen. Our DOM views (the
 * input tokens, the class bars and confusion matrix, the distance bars) and
 * the captions and legends around the canvas views all go through here.
 */
import { replayCanvas } from "./canvas_tape";
import { SvgContext } from "./svg_context";
import { IdSource, attrs, escapeText, num, paintOf } from "./svg_writer";

/** Elements never exported: the export menus, and anything marked to skip. */
const SKIP = ".export-menu, [data-export-skip], script, style, template";

interface Walk {
  out: string[];
  ids: IdSource;
  /** The origin of the SVG (the exported element's top-left), in client px. */
  ox: number;
  oy: number;
  /** Elements written per kind, for the caller's attributes. */
  counts: { text: number; canvas: number; pixels: number };
}

/** Writes `root` and its visible descendants at (x, y) of the SVG; returns the fragment and what it holds. */
export function elementToSvg(root: Element, x: number, y: number, ids: IdSource): { svg: string; counts: Walk["counts"] } {
  const rect = root.getBoundingClientRect();
  const walk: Walk = { out: [], ids, ox: rect.left - x, oy: rect.top - y, counts: { text: 0, canvas: 0, pixels: 0 } };
  writeElement(walk, root, 1);
  return { svg: walk.out.join(""), counts: walk.counts };
}

/** The first opaque background colour at or above `element` (the page's, when none is set). */
export function backgroundOf(element: Element): string {
  for (let e: Element | null = element; e !== null; e = e.parentElement) {
    const bg = getComputedStyle(e).backgroundColor;
    if (paintOf(bg).opacity > 0) return bg;
  }
  return "#ffffff";
}

function hidden(element: Element, style: CSSStyleDeclaration): boolean {
  if (element.matches(SKIP)) return true;
  if (style.display === "none" || style.visibility === "hidden" || style.visibility === "collapse") return true;
  if (Number(style.opacity) === 0) return true;
  return style.clipPath === "inset(50%)";
}

function writeElement(walk: Walk, element: Element, opacity: number): void {
  const style = getComputedStyle(element);
  if (hidden(element, style)) return;
  const alpha = opacity * Number(style.opacity || 1);
  const box = element.getBoundingClientRect();
  const x = box.left - walk.ox;
  const y = box.top - walk.oy;
  if (box.width > 0 && box.height > 0) {
    writeBackground(walk, element, style, x, y, box.width, box.height, alpha);
    writeBorders(walk, style, x, y, box.width, box.height, alpha);
  }
  if (element instanceof HTMLCanvasElement) {
    writeCanvas(walk, element, x, y, box.width, box.height, alpha);
    return;
  }
  if (element instanceof HTMLSelectElement || element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement) {
    writeControl(walk, element, style, x, y, box.width, box.height, alpha);
    return;
  }
  const clips = style.overflowX !== "visible" || style.overflowY !== "visible";
  if (clips && box.width > 0 && box.height > 0) {
    const id = walk.ids.take("clip");
    walk.out.push(`<clipPath id="${id}"><rect${attrs({ x, y, width: box.width, height: box.height })}/></clipPath><g clip-path="url(#${id})">`);
  }
  for (const child of element.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) writeText(walk, child as Text, style, alpha);
    else if (child instanceof Element) writeElement(walk, child, alpha);
  }
  if (clips && box.width > 0 && box.height > 0) walk.out.push("</g>");
}

function radiusOf(style: CSSStyleDeclaration, width: number, height: number): number {
  const raw = style.borderTopLeftRadius;
  const value = parseFloat(raw) || 0;
  return raw.endsWith("%") ? (Math.min(width, height) * value) / 100 : Math.min(value, width / 2, height / 2);
}

/** A rectangle's paint attributes: fill colour and the opacity of the colour times the element's. */
function fillOf(css: string, alpha: number): Record<string, string> | null {
  const p = paintOf(css);
  const opacity = p.opacity * alpha;
  if (p.color === "none" || opacity <= 0) return null;
  return { fill: p.color, "fill-opacity": opacity < 1 ? num(opacity) : "" };
}

function writeBackground(walk: Walk, element: Element, style: CSSStyleDeclaration, x: number, y: number, w: number, h: number, alpha: number): void {
  const r = radiusOf(style, w, h);
  // The element's id and classes, so that a reader of the file can tell its parts apart.
  const names = { "data-id": element.id, class: [...element.classList].join(" ") };
  const shape = { ...names, x, y, width: w, height: h, rx: r > 0 ? r : undefined };
  const fill = fillOf(style.backgroundColor, alpha);
  if (fill !== null) walk.out.push(`<rect${attrs({ ...shape, ...fill })}/>`);
  const gradient = linearGradient(style.backgroundImage);
  if (gradient === null) return;
  const id = walk.ids.take("grad");
  const stops = gradient.stops
    .map((css, i) => {
      const p = paintOf(css);
      return `<stop${attrs({ offset: gradient.stops.length > 1 ? i / (gradient.stops.length - 1) : 0, "stop-color": p.color, "stop-opacity": p.opacity < 1 ? p.opacity : undefined })}/>`;
    })
    .join("");
  const [x2, y2] = gradient.vertical ? [0, 1] : [1, 0];
  walk.out.push(`<linearGradient${attrs({ id, x1: 0, y1: 0, x2, y2 })}>${stops}</linearGradient>`);
  walk.out.push(`<rect${attrs({ ...shape, fill: `url(#${id})`, "fill-opacity": alpha < 1 ? alpha : undefined })}/>`);
}

/** The colour stops of a `linear-gradient(to right | to bottom, ...)` background (evenly spaced), or null. */
function linearGradient(image: string): { vertical: boolean; stops: string[] } | null {
  if (!image.startsWith("linear-gradient(")) return null;
  const stops = image.match(/(rgba?\([^)]*\)|#[0-9a-fA-F]{3,8})/g);
  if (stops === null || stops.length === 0) return null;
  return { vertical: !/to right|90deg/.test(image), stops };
}

function writeBorders(walk: Walk, style: CSSStyleDeclaration, x: number, y: number, w: number, h: number, alpha: number): void {
  const sides = [
    ["Top", x, y, x + w, y],
    ["Right", x + w, y, x + w, y + h],
    ["Bottom", x, y + h, x + w, y + h],
    ["Left", x, y, x, y + h],
  ] as const;
  const widths = sides.map(([side]) => (style.getPropertyValue(`border-${side.toLowerCase()}-style`) === "none" ? 0 : parseFloat(style.getPropertyValue(`border-${side.toLowerCase()}-width`)) || 0));
  const colours = sides.map(([side]) => style.getPropertyValue(`border-${side.toLowerCase()}-color`));
  const r = radiusOf(style, w, h);
  const uniform = widths.every((v) => v === widths[0]) && colours.every((c) => c === colours[0]);
  if (uniform && (widths[0] ?? 0) > 0) {
    const p = paintOf(colours[0] ?? "");
    const bw = widths[0] ?? 0;
    if (p.color === "none" || p.opacity * alpha <= 0) return;
    walk.out.push(`<rect${attrs({ x: x + bw / 2, y: y + bw / 2, width: w - bw, height: h - bw, rx: r > 0 ? r : undefined, fill: "none", stroke: p.color, "stroke-width": bw, "stroke-opacity": p.opacity * alpha < 1 ? p.opacity * alpha : undefined })}/>`);
    return;
  }
  sides.forEach(([, x1, y1, x2, y2], i) => {
    const bw = widths[i] ?? 0;
    const p = paintOf(colours[i] ?? "");
    if (bw <= 0 || p.color === "none" || p.opacity * alpha <= 0) return;
    // Inside the box, as the browser draws it.
    const dx = i === 1 ? -bw / 2 : i === 3 ? bw / 2 : 0;
    const dy = i === 0 ? bw / 2 : i === 2 ? -bw / 2 : 0;
    walk.out.push(`<line${attrs({ x1: x1 + dx, y1: y1 + dy, x2: x2 + dx, y2: y2 + dy, stroke: p.color, "stroke-width": bw, "stroke-opacity": p.opacity * alpha < 1 ? p.opacity * alpha : undefined })}/>`);
  });
}

/** The SVG text attributes of an element's font and colour. */
function textAttrs(style: CSSStyleDeclaration, alpha: number): Record<string, string> {
  const p = paintOf(style.color);
  const opacity = p.opacity * alpha;
  return {
    "font-family": style.fontFamily,
    "font-size": style.fontSize,
    "font-weight": style.fontWeight !== "400" && style.fontWeight !== "normal" ? style.fontWeight : "",
    "font-style": style.fontStyle !== "normal" ? style.fontStyle : "",
    fill: p.color,
    "fill-opacity": opacity < 1 ? num(opacity) : "",
  };
}

function transformCase(text: string, style: CSSStyleDeclaration): string {
  if (style.textTransform === "uppercase") return text.toUpperCase();
  if (style.textTransform === "lowercase") return text.toLowerCase();
  return text;
}

/** A text node as one `<text>` per line box the browser made of it. */
function writeText(walk: Walk, node: Text, style: CSSStyleDeclaration, alpha: number): void {
  const raw = node.data;
  if (raw.trim() === "") return;
  const pre = style.whiteSpace.startsWith("pre") || style.whiteSpace === "break-spaces";
  const range = document.createRange();
  range.selectNodeContents(node);
  const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
  if (rects.length === 0) return;
  const lines: { left: number; top: number; height: number; text: string }[] = [];
  if (rects.length === 1) {
    const r = rects[0] as DOMRect;
    lines.push({ left: r.left, top: r.top, height: r.height, text: pre ? raw : raw.replace(/\s+/g, " ").trim() });
  } else {
    // Wrapped: words grouped by the line box each lands on.
    const words = /\S+/g;
    let match: RegExpExecArray | null;
    while ((match = words.exec(raw)) !== null) {
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const r = range.getClientRects()[0];
      if (r === undefined) continue;
      const line = lines.find((l) => Math.abs(l.top - r.top) < r.height / 2);
      if (line === undefined) lines.push({ left: r.left, top: r.top, height: r.height, text: match[0] });
      else line.text += ` ${match[0]}`;
    }
  }
  const paint = textAttrs(style, alpha);
  for (const line of lines) {
    const body = attrs({ x: line.left - walk.ox, y: line.top - walk.oy + line.height / 2, "dominant-baseline": "central", ...paint, "xml:space": pre ? "preserve" : "" });
    walk.out.push(`<text${body}>${escapeText(transformCase(line.text, style))}</text>`);
    walk.counts.text++;
  }
}

/** A form control as what it shows: a select's chosen option, an input's value, a checkbox's tick. */
function writeControl(
  walk: Walk, control: HTMLSelectElement | HTMLInputElement | HTMLTextAreaElement, style: CSSStyleDeclaration, x: number, y: number, w: number, h: number, alpha: number,
): void {
  const paint = textAttrs(style, alpha);
  const line = (text: string) => {
    walk.out.push(`<text${attrs({ x: x + 4, y: y + h / 2, "dominant-baseline": "central", ...paint })}>${escapeText(text)}</text>`);
    walk.counts.text++;
  };
  if (control instanceof HTMLSelectElement) {
    if (paintOf(style.borderTopColor).opacity === 0 || style.borderTopStyle === "none") {
      walk.out.push(`<rect${attrs({ x: x + 0.5, y: y + 0.5, width: w - 1, height: h - 1, rx: 2, fill: "none", stroke: "#888888" })}/>`);
    }
    line(`${control.selectedOptions[0]?.text ?? ""} ▾`);
    return;
  }
  if (control instanceof HTMLInputElement && (control.type === "checkbox" || control.type === "radio")) {
    const side = Math.min(w, h);
    const shape = control.type === "radio" ? { rx: side / 2 } : { rx: 2 };
    walk.out.push(`<rect${attrs({ x: x + 0.5, y: y + 0.5, width: side - 1, height: side - 1, ...shape, fill: "#ffffff", stroke: "#767676" })}/>`);
    if (control.checked) walk.out.push(`<path${attrs({ d: `M${num(x + side * 0.22)} ${num(y + side * 0.52)}L${num(x + side * 0.42)} ${num(y + side * 0.72)}L${num(x + side * 0.78)} ${num(y + side * 0.3)}`, fill: "none", stroke: paintOf(style.accentColor === "auto" ? "#1a73e8" : style.accentColor).color, "stroke-width": 2 })}/>`);
    return;
  }
  if (control instanceof HTMLInputElement && control.type === "range") {
    const min = Number(control.min || 0);
    const max = Number(control.max || 100);
    const at = x + 6 + ((Number(control.value) - min) / Math.max(1e-12, max - min)) * (w - 12);
    walk.out.push(`<line${attrs({ x1: x + 6, y1: y + h / 2, x2: x + w - 6, y2: y + h / 2, stroke: "#9e9e9e", "stroke-width": 3, "stroke-linecap": "round" })}/>`);
    walk.out.push(`<circle${attrs({ cx: at, cy: y + h / 2, r: Math.min(6, h / 2), fill: "#1a73e8" })}/>`);
    return;
  }
  if (control.value !== "") line(control.value);
}

/** A canvas as the vectors its view draws, or its pixels when they cannot be recorded. */
function writeCanvas(walk: Walk, canvas: HTMLCanvasElement, x: number, y: number, w: number, h: number, alpha: number): void {
  if (canvas.width === 0 || canvas.height === 0 || w === 0 || h === 0) return;
  const id = walk.ids.take("clip");
  walk.out.push(`<clipPath id="${id}"><rect${attrs({ x, y, width: w, height: h })}/></clipPath>`);
  walk.out.push(`<g${attrs({ "clip-path": `url(#${id})`, opacity: alpha < 1 ? alpha : undefined, "data-canvas": canvas.id })}>`);
  const ctx = new SvgContext([w / canvas.width, 0, 0, h / canvas.height, x, y], walk.ids);
  if (replayCanvas(canvas, ctx)) {
    walk.out.push(ctx.svg());
    walk.counts.canvas++;
  } else {
    walk.out.push(`<image${attrs({ x, y, width: w, height: h, "xlink:href": canvas.toDataURL("image/png"), preserveAspectRatio: "none" })}/>`);
    walk.counts.pixels++;
  }
  walk.out.push("</g>");
}
