/**
 * A CanvasRenderingContext2D look-alike that writes SVG elements instead of
 * pixels, so that a view's own drawing code makes its SVG and the file never
 * disagrees with the screen. It supports what our views draw with: paths
 * (moveTo, lineTo, rect, arc, closePath; `Path2D` through `RecordingPath2D`),
 * fill and stroke with colour, alpha, width, dash and caps, rectangles, text
 * (font, alignment, baseline, stroked halo), transforms, save/restore and
 * clipping. Anything else throws `UnsupportedDrawing`, and the caller falls
 * back to the canvas' pixels.
 *
 * Coordinates are transformed when recorded, so the SVG holds final CSS px;
 * text keeps a `transform` only when rotated. Libraries (svgcanvas,
 * canvas2svg) were weighed: neither can read the browser's own `Path2D`, which
 * our trajectories batch their strokes into, and both nest a group per
 * transform; this recorder is a few hundred lines with no dependency.
 */
import { IdSource, attrs, escapeText, num, paintOf, scratchContext, type Paint } from "./svg_writer";

export class UnsupportedDrawing extends Error {}

/** An affine matrix [a, b, c, d, e, f] as the canvas' `setTransform` takes it. */
type Matrix = [number, number, number, number, number, number];

const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

function multiply(m: Matrix, n: Matrix): Matrix {
  return [
    m[0] * n[0] + m[2] * n[1],
    m[1] * n[0] + m[3] * n[1],
    m[0] * n[2] + m[2] * n[3],
    m[1] * n[2] + m[3] * n[3],
    m[0] * n[4] + m[2] * n[5] + m[4],
    m[1] * n[4] + m[3] * n[5] + m[5],
  ];
}

function apply(m: Matrix, x: number, y: number): [number, number] {
  return [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
}

/** How much the matrix scales lengths (exact for rotations with uniform scale). */
function scaleOf(m: Matrix): number {
  return Math.sqrt(Math.abs(m[0] * m[3] - m[1] * m[2]));
}

/** Path commands in untransformed coordinates: what a `Path2D` or the current path holds. */
type Command =
  | { op: "M" | "L"; x: number; y: number }
  | { op: "Z" }
  | { op: "rect"; x: number; y: number; w: number; h: number }
  | { op: "arc"; x: number; y: number; r: number; a0: number; a1: number; ccw: boolean };

/** Path data of `commands` under `m`. */
function pathData(commands: readonly Command[], m: Matrix): string {
  const parts: string[] = [];
  let open = false;
  for (const c of commands) {
    if (c.op === "M" || c.op === "L") {
      const [x, y] = apply(m, c.x, c.y);
      parts.push(`${c.op === "M" || !open ? "M" : "L"}${num(x)} ${num(y)}`);
      open = true;
    } else if (c.op === "Z") {
      parts.push("Z");
    } else if (c.op === "rect") {
      const corners = [[c.x, c.y], [c.x + c.w, c.y], [c.x + c.w, c.y + c.h], [c.x, c.y + c.h]].map(([x, y]) => apply(m, x as number, y as number));
      parts.push(`M${corners.map(([x, y]) => `${num(x)} ${num(y)}`).join("L")}Z`);
      open = false;
    } else if (c.op === "arc") {
      parts.push(arcData(c, m, open));
      open = true;
    }
  }
  return parts.join("");
}

/** An arc as SVG path data: a line (or move) to its start, then one or two elliptical arcs. */
function arcData(c: Extract<Command, { op: "arc" }>, m: Matrix, open: boolean): string {
  const r = c.r * scaleOf(m);
  const at = (angle: number) => apply(m, c.x + c.r * Math.cos(angle), c.y + c.r * Math.sin(angle));
  const [sx, sy] = at(c.a0);
  let delta = c.ccw ? c.a0 - c.a1 : c.a1 - c.a0;
  const full = delta >= 2 * Math.PI - 1e-9;
  if (!full) delta = ((delta % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
  const flipped = m[0] * m[3] - m[1] * m[2] < 0;
  const sweep = (c.ccw ? 0 : 1) ^ (flipped ? 1 : 0);
  let d = `${open ? "L" : "M"}${num(sx)} ${num(sy)}`;
  if (full) {
    const [mx, my] = at(c.a0 + (c.ccw ? -Math.PI : Math.PI));
    d += `A${num(r)} ${num(r)} 0 0 ${sweep} ${num(mx)} ${num(my)}A${num(r)} ${num(r)} 0 0 ${sweep} ${num(sx)} ${num(sy)}`;
  } else {
    const [ex, ey] = at(c.a1);
    d += `A${num(r)} ${num(r)} 0 ${delta > Math.PI ? 1 : 0} ${sweep} ${num(ex)} ${num(ey)}`;
  }
  return d;
}

/** A `Path2D` whose commands the recorder can read (the browser's own keeps them to itself). */
export class RecordingPath2D {
  readonly commands: Command[] = [];
  moveTo(x: number, y: number): void {
    this.commands.push({ op: "M", x, y });
  }
  lineTo(x: number, y: number): void {
    this.commands.push({ op: "L", x, y });
  }
  closePath(): void {
    this.commands.push({ op: "Z" });
  }
  rect(x: number, y: number, w: number, h: number): void {
    this.commands.push({ op: "rect", x, y, w, h });
  }
  arc(x: number, y: number, r: number, a0: number, a1: number, ccw = false): void {
    this.commands.push({ op: "arc", x, y, r, a0, a1, ccw });
  }
  addPath(path: RecordingPath2D): void {
    this.commands.push(...path.commands);
  }
}

/**
 * Runs `draw` with the global `Path2D` replaced by `RecordingPath2D`, so paths
 * the drawing code builds can be written out; restored afterwards.
 */
export function withRecordingPaths<T>(draw: () => T): T {
  const holder = globalThis as unknown as { Path2D: unknown };
  const native = holder.Path2D;
  holder.Path2D = RecordingPath2D;
  try {
    return draw();
  } finally {
    holder.Path2D = native;
  }
}

interface DrawState {
  matrix: Matrix;
  fillStyle: string;
  strokeStyle: string;
  lineWidth: number;
  lineCap: CanvasLineCap;
  lineJoin: CanvasLineJoin;
  dash: number[];
  globalAlpha: number;
  font: string;
  textAlign: CanvasTextAlign;
  textBaseline: CanvasTextBaseline;
  /** How many groups (clips) were open when this state was saved. */
  groups: number;
}

const BASELINES: Record<string, string | undefined> = {
  top: "text-before-edge",
  hanging: "hanging",
  middle: "central",
  bottom: "text-after-edge",
  ideographic: "ideographic",
};

const ANCHORS: Record<string, string | undefined> = { center: "middle", right: "end", end: "end" };

/** The SVG font attributes of a canvas `font` string. */
function fontAttrs(font: string, scale: number): Record<string, string> {
  const probe = document.createElement("span").style;
  probe.font = font;
  const size = parseFloat(probe.fontSize) || 10;
  return {
    "font-family": probe.fontFamily || "sans-serif",
    "font-size": num(size * scale),
    "font-weight": probe.fontWeight && probe.fontWeight !== "normal" && probe.fontWeight !== "400" ? probe.fontWeight : "",
    "font-style": probe.fontStyle && probe.fontStyle !== "normal" ? probe.fontStyle : "",
  };
}

/** Records canvas drawing as SVG elements; `base` maps the drawing's pixels to the SVG's px. */
export class SvgContext {
  private readonly out: string[] = [];
  private readonly stack: DrawState[] = [];
  private state: DrawState;
  private path: Command[] = [];
  private openGroups = 0;
  /** Elements written (paths, rects, texts): what a caller can count. */
  elements = 0;

  constructor(private readonly base: Matrix = IDENTITY, private readonly ids = new IdSource("c")) {
    this.state = {
      matrix: base, fillStyle: "#000000", strokeStyle: "#000000", lineWidth: 1, lineCap: "butt", lineJoin: "miter",
      dash: [], globalAlpha: 1, font: "10px sans-serif", textAlign: "start", textBaseline: "alphabetic", groups: 0,
    };
  }

  /** The SVG written so far (groups still open are closed). */
  svg(): string {
    return this.out.join("") + "</g>".repeat(this.openGroups);
  }

  // Styles.
  get fillStyle(): string { return this.state.fillStyle; }
  set fillStyle(v: string | CanvasGradient | CanvasPattern) { this.state.fillStyle = this.colour(v); }
  get strokeStyle(): string { return this.state.strokeStyle; }
  set strokeStyle(v: string | CanvasGradient | CanvasPattern) { this.state.strokeStyle = this.colour(v); }
  get lineWidth(): number { return this.state.lineWidth; }
  set lineWidth(v: number) { if (v > 0 && Number.isFinite(v)) this.state.lineWidth = v; }
  get lineCap(): CanvasLineCap { return this.state.lineCap; }
  set lineCap(v: CanvasLineCap) { this.state.lineCap = v; }
  get lineJoin(): CanvasLineJoin { return this.state.lineJoin; }
  set lineJoin(v: CanvasLineJoin) { this.state.lineJoin = v; }
  get globalAlpha(): number { return this.state.globalAlpha; }
  set globalAlpha(v: number) { if (v >= 0 && v <= 1) this.state.globalAlpha = v; }
  get font(): string { return this.state.font; }
  set font(v: string) { this.state.font = v; }
  get textAlign(): CanvasTextAlign { return this.state.textAlign; }
  set textAlign(v: CanvasTextAlign) { this.state.textAlign = v; }
  get textBaseline(): CanvasTextBaseline { return this.state.textBaseline; }
  set textBaseline(v: CanvasTextBaseline) { this.state.textBaseline = v; }
  get globalCompositeOperation(): string { return "source-over"; }
  set globalCompositeOperation(v: string) { if (v !== "source-over") throw new UnsupportedDrawing(`compositing "${v}"`); }
  setLineDash(segments: number[]): void { this.state.dash = [...segments]; }
  getLineDash(): number[] { return [...this.state.dash]; }

  private colour(v: unknown): string {
    if (typeof v !== "string") throw new UnsupportedDrawing("gradients and patterns");
    return v;
  }

  // Transforms and state.
  save(): void {
    this.stack.push({ ...this.state, dash: [...this.state.dash], groups: this.openGroups });
  }
  restore(): void {
    const saved = this.stack.pop();
    if (saved === undefined) return;
    while (this.openGroups > saved.groups) {
      this.out.push("</g>");
      this.openGroups--;
    }
    this.state = saved;
  }
  setTransform(a: number | DOMMatrix2DInit = 1, b = 0, c = 0, d = 1, e = 0, f = 0): void {
    if (typeof a !== "number") throw new UnsupportedDrawing("setTransform(matrix)");
    this.state.matrix = multiply(this.base, [a, b, c, d, e, f]);
  }
  resetTransform(): void { this.state.matrix = this.base; }
  transform(a: number, b: number, c: number, d: number, e: number, f: number): void {
    this.state.matrix = multiply(this.state.matrix, [a, b, c, d, e, f]);
  }
  translate(x: number, y: number): void { this.transform(1, 0, 0, 1, x, y); }
  scale(x: number, y: number): void { this.transform(x, 0, 0, y, 0, 0); }
  rotate(angle: number): void {
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    this.transform(cos, sin, -sin, cos, 0, 0);
  }

  // The current path (kept untransformed with its matrix applied per command, as the canvas does).
  beginPath(): void { this.path = []; }
  moveTo(x: number, y: number): void { this.pushPoint("M", x, y); }
  lineTo(x: number, y: number): void { this.pushPoint("L", x, y); }
  closePath(): void { this.path.push({ op: "Z" }); }
  rect(x: number, y: number, w: number, h: number): void {
    this.path.push(...this.transformed([{ op: "rect", x, y, w, h }]));
  }
  arc(x: number, y: number, r: number, a0: number, a1: number, ccw = false): void {
    this.path.push(...this.transformed([{ op: "arc", x, y, r, a0, a1, ccw }]));
  }
  private pushPoint(op: "M" | "L", x: number, y: number): void {
    const [tx, ty] = apply(this.state.matrix, x, y);
    this.path.push({ op, x: tx, y: ty });
  }
  /** Commands baked into device space: rects and arcs keep their shape under scale and translation. */
  private transformed(commands: Command[]): Command[] {
    const m = this.state.matrix;
    if (m[1] !== 0 || m[2] !== 0) {
      // Rotated or skewed: as a polygon through the transformed points.
      const d = pathData(commands, m);
      return polygonOf(d);
    }
    return commands.map((c) => {
      if (c.op === "rect") {
        const [x0, y0] = apply(m, c.x, c.y);
        return { op: "rect", x: x0, y: y0, w: c.w * m[0], h: c.h * m[3] };
      }
      if (c.op === "arc") {
        const [x, y] = apply(m, c.x, c.y);
        const flip = m[0] * m[3] < 0;
        return { ...c, x, y, r: c.r * scaleOf(m), a0: flip ? -c.a0 : c.a0, a1: flip ? -c.a1 : c.a1, ccw: flip ? !c.ccw : c.ccw };
      }
      return c;
    });
  }

  // Painting.
  fill(pathOrRule?: RecordingPath2D | CanvasFillRule, rule?: CanvasFillRule): void {
    const [d, fillRule] = this.pathArgs(pathOrRule, rule);
    if (d === "") return;
    this.emit("path", { d, ...this.fillAttrs(), "fill-rule": fillRule === "evenodd" ? "evenodd" : "" });
  }
  stroke(path?: RecordingPath2D): void {
    const [d] = this.pathArgs(path);
    if (d === "") return;
    this.emit("path", { d, fill: "none", ...this.strokeAttrs() });
  }
  clip(pathOrRule?: RecordingPath2D | CanvasFillRule): void {
    const [d] = this.pathArgs(pathOrRule);
    const id = this.ids.take("clip");
    this.out.push(`<clipPath id="${id}"><path d="${d}"/></clipPath><g clip-path="url(#${id})">`);
    this.openGroups++;
  }
  fillRect(x: number, y: number, w: number, h: number): void {
    this.emit("path", { d: pathData([{ op: "rect", x, y, w, h }], this.state.matrix), ...this.fillAttrs() });
  }
  strokeRect(x: number, y: number, w: number, h: number): void {
    this.emit("path", { d: pathData([{ op: "rect", x, y, w, h }], this.state.matrix), fill: "none", ...this.strokeAttrs() });
  }
  /** Clearing is a no-op: the export starts from an empty document with its own background. */
  clearRect(): void {}
  fillText(text: string, x: number, y: number): void {
    this.text(text, x, y, this.fillAttrs());
  }
  strokeText(text: string, x: number, y: number): void {
    this.text(text, x, y, { fill: "none", ...this.strokeAttrs(), "stroke-linejoin": "round" });
  }
  measureText(text: string): TextMetrics {
    const ctx = scratchContext();
    ctx.font = this.state.font;
    return ctx.measureText(text);
  }
  drawImage(): void { throw new UnsupportedDrawing("drawImage"); }
  putImageData(): void { throw new UnsupportedDrawing("putImageData"); }
  createLinearGradient(): never { throw new UnsupportedDrawing("gradients"); }

  private pathArgs(pathOrRule?: RecordingPath2D | CanvasFillRule | object, rule?: CanvasFillRule): [string, CanvasFillRule | undefined] {
    if (pathOrRule === undefined || typeof pathOrRule === "string") return [pathData(this.path, IDENTITY), pathOrRule];
    if (pathOrRule instanceof RecordingPath2D) return [pathData(pathOrRule.commands, this.state.matrix), rule];
    throw new UnsupportedDrawing("a browser Path2D");
  }

  private paintAttrs(css: string, kind: "fill" | "stroke"): Record<string, string | number> {
    const p: Paint = paintOf(css);
    const opacity = p.opacity * this.state.globalAlpha;
    return { [kind]: p.color, [`${kind}-opacity`]: opacity < 1 ? num(opacity) : "" };
  }
  private fillAttrs(): Record<string, string | number> {
    return this.paintAttrs(this.state.fillStyle, "fill");
  }
  private strokeAttrs(): Record<string, string | number> {
    const s = this.state;
    const scale = scaleOf(s.matrix);
    return {
      ...this.paintAttrs(s.strokeStyle, "stroke"),
      "stroke-width": num(s.lineWidth * scale),
      "stroke-linecap": s.lineCap === "butt" ? "" : s.lineCap,
      "stroke-linejoin": s.lineJoin === "miter" ? "" : s.lineJoin,
      "stroke-dasharray": s.dash.length > 0 ? s.dash.map((v) => num(v * scale)).join(" ") : "",
    };
  }

  private text(text: string, x: number, y: number, paint: Record<string, string | number>): void {
    const m = this.state.matrix;
    const rotated = m[1] !== 0 || m[2] !== 0;
    const [tx, ty] = rotated ? [x, y] : apply(m, x, y);
    const placement = rotated
      ? { x, y, transform: `matrix(${m.map(num).join(" ")})` }
      : { x: tx, y: ty };
    const scale = rotated ? 1 : scaleOf(m);
    // Inside a rotated frame a halo's width is the drawing's own.
    const painted = rotated && paint["stroke-width"] !== undefined ? { ...paint, "stroke-width": num(this.state.lineWidth) } : paint;
    const body = attrs({
      ...placement,
      ...fontAttrs(this.state.font, scale),
      "text-anchor": ANCHORS[this.state.textAlign] ?? "",
      "dominant-baseline": BASELINES[this.state.textBaseline] ?? "",
      ...painted,
    });
    this.out.push(`<text${body}>${escapeText(text)}</text>`);
    this.elements++;
  }

  private emit(tag: string, pairs: Record<string, string | number>): void {
    if (pairs["fill"] === "none" && pairs["stroke"] === "none") return;
    this.out.push(`<${tag}${attrs(pairs)}/>`);
    this.elements++;
  }
}

/** The points of path data (M/L/Z only after flattening) as polygon commands. */
function polygonOf(d: string): Command[] {
  const out: Command[] = [];
  const re = /([MLZA])([^MLZA]*)/g;
  let match: RegExpExecArray | null;
  while ((match = re.exec(d)) !== null) {
    const values = (match[2] ?? "").trim().split(/[\s,]+/).filter((v) => v !== "").map(Number);
    if (match[1] === "Z") out.push({ op: "Z" });
    else if (match[1] === "A") out.push({ op: "L", x: values[5] ?? 0, y: values[6] ?? 0 });
    else out.push({ op: match[1] as "M" | "L", x: values[0] ?? 0, y: values[1] ?? 0 });
  }
  return out;
}
