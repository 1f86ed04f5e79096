/**
 * Small pieces every SVG export shares: numbers written short, text and
 * attributes escaped, colours split into an opaque colour and an opacity
 * (so that viewers without CSS Color 4 read them), and a unique id source
 * for clip paths and gradients.
 */

/** A number with at most two decimals, without trailing zeros ("12.5", "3", "-0.25"). */
export function num(value: number): string {
  if (!Number.isFinite(value)) return "0";
  const rounded = Math.round(value * 100) / 100;
  return String(rounded === 0 ? 0 : rounded);
}

/** Text as XML character data. */
export function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Text as an XML attribute value (in double quotes). */
export function escapeAttr(text: string): string {
  return escapeText(text).replace(/"/g, "&quot;");
}

/** `name="value"` pairs, skipping undefined and empty values. */
export function attrs(pairs: Record<string, string | number | undefined | null>): string {
  let out = "";
  for (const [name, value] of Object.entries(pairs)) {
    if (value === undefined || value === null || value === "") continue;
    out += ` ${name}="${escapeAttr(typeof value === "number" ? num(value) : value)}"`;
  }
  return out;
}

export interface Paint {
  /** `#rrggbb`, or "none". */
  color: string;
  /** 0..1. */
  opacity: number;
}

let scratch: CanvasRenderingContext2D | null = null;

/** A 2-D context used only to parse colours and measure text. */
export function scratchContext(): CanvasRenderingContext2D {
  if (scratch === null) {
    const ctx = document.createElement("canvas").getContext("2d");
    if (ctx === null) throw new Error("This browser cannot draw on a canvas.");
    scratch = ctx;
  }
  return scratch;
}

const hex2 = (v: number) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, "0");

/** Any CSS colour as an opaque `#rrggbb` and an opacity (what the canvas itself parses it to). */
export function paintOf(css: string): Paint {
  const text = css.trim();
  if (text === "" || text === "transparent" || text === "none") return { color: "none", opacity: 0 };
  // Hex and rgb() (what our views and the computed styles use) are read here; names and others by a canvas.
  let parsed = text;
  if (/^#[0-9a-f]{6}$/i.test(text)) return { color: text.toLowerCase(), opacity: 1 };
  if (!/^rgba?\(/.test(text)) {
    const ctx = scratchContext();
    ctx.fillStyle = "#000000";
    ctx.fillStyle = text;
    parsed = String(ctx.fillStyle);
  }
  if (parsed.startsWith("#")) return { color: parsed, opacity: 1 };
  const m = /rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:[,\s/]+([\d.]+))?\s*\)/.exec(parsed);
  if (m === null) return { color: "#000000", opacity: 1 };
  const alpha = m[4] === undefined ? 1 : Number(m[4]);
  return { color: `#${hex2(Number(m[1]))}${hex2(Number(m[2]))}${hex2(Number(m[3]))}`, opacity: alpha };
}

/** Ids unique within one exported document. */
export class IdSource {
  private next = 0;
  constructor(private readonly prefix: string) {}
  take(kind: string): string {
    this.next += 1;
    return `${this.prefix}-${kind}${this.next}`;
  }
}

/** A whole SVG document of `width` x `height` CSS px, around `body`. */
export function svgDocument(width: number, height: number, body: string, title: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1"` +
    `${attrs({ width, height, viewBox: `0 0 ${num(width)} ${num(height)}` })}>\n` +
    `<title>${escapeText(title)}</title>\n${body}</svg>\n`
  );
}
