/**
 * A canvas view's own drawing code, run again into the SVG export: the heat
 * map, the distance histogram and the units view each register their canvas
 * with the function that redraws it (`exportableCanvas`, one line in the
 * view). To export, `replayCanvas` redraws it once with the canvas handing
 * out a tee of its context: every call and style assignment goes to the real
 * context (the screen is unchanged) and onto a tape, which is then replayed
 * into an `SvgContext`. Outside an export the canvas hands out its own
 * context, so drawing costs nothing more.
 */
import { SvgContext } from "./svg_context";

/** A call (`name`, arguments) or a style assignment (`=`, property, value). */
type Entry = readonly [string, readonly unknown[]] | readonly ["=", string, unknown];

/** More calls than this in one frame are not replayed (the pixels are exported instead). */
const MAX_CALLS = 1_000_000;

interface Tape {
  redraw: () => void;
  /** The tee while an export records, else null. */
  recording: Entry[] | null;
  proxy: CanvasRenderingContext2D;
}

const tapes = new WeakMap<HTMLCanvasElement, Tape>();

/** Calls that only read: not recorded. */
const READS = new Set(["measureText", "getLineDash", "getTransform", "isPointInPath", "isPointInStroke", "getImageData", "getContextAttributes"]);

/** A context that draws on `real` and records onto the tape while it records. */
function tee(real: CanvasRenderingContext2D, tape: () => Tape): CanvasRenderingContext2D {
  const record = (entry: Entry) => {
    const entries = tape().recording;
    if (entries !== null && entries.length < MAX_CALLS) entries.push(entry);
  };
  return new Proxy(real, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== "function") return value;
      const name = String(property);
      return (...args: unknown[]) => {
        if (!READS.has(name)) record([name, args]);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
    set(target, property, value) {
      record(["=", String(property), value]);
      return Reflect.set(target, property, value, target);
    },
  });
}

/** Lets the SVG export run `redraw` (which draws `canvas` as the view shows it) into its recorder. */
export function exportableCanvas(canvas: HTMLCanvasElement, redraw: () => void): void {
  const existing = tapes.get(canvas);
  if (existing !== undefined) {
    existing.redraw = redraw;
    return;
  }
  const real = canvas.getContext("2d");
  if (real === null) return;
  const tape: Tape = { redraw, recording: null, proxy: tee(real, () => tape) };
  tapes.set(canvas, tape);
  const own = canvas.getContext.bind(canvas) as (kind: string, options?: unknown) => RenderingContext | null;
  Object.defineProperty(canvas, "getContext", {
    configurable: true,
    value: (kind: string, options?: unknown) => (kind === "2d" && tape.recording !== null ? tape.proxy : own(kind, options)),
  });
}

/** Redraws `canvas` with its context taped; the calls of that frame, or null when it is not exportable. */
function recordFrame(canvas: HTMLCanvasElement): Entry[] | null {
  const tape = tapes.get(canvas);
  if (tape === undefined) return null;
  const entries: Entry[] = [];
  tape.recording = entries;
  try {
    tape.redraw();
  } finally {
    tape.recording = null;
  }
  return entries.length > 0 && entries.length < MAX_CALLS ? entries : null;
}

/**
 * Replays the canvas' frame into `ctx`; false when it cannot (not registered,
 * nothing drawn, too long, or a call the recorder lacks), and then the caller
 * embeds the pixels.
 */
export function replayCanvas(canvas: HTMLCanvasElement, ctx: SvgContext): boolean {
  const entries = recordFrame(canvas);
  if (entries === null) return false;
  const target = ctx as unknown as Record<string, unknown>;
  try {
    for (const entry of entries) {
      if (entry[0] === "=") {
        target[entry[1] as string] = entry[2];
        continue;
      }
      const method = target[entry[0]];
      if (typeof method !== "function") return false;
      (method as (...a: unknown[]) => unknown).apply(ctx, [...(entry[1] as readonly unknown[])]);
    }
  } catch {
    return false;
  }
  return true;
}
