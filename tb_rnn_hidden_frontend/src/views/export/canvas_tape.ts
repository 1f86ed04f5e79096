/**
 * The drawing calls of a view's last frame on one of its canvases, kept so
 * that the SVG export can replay them into an `SvgContext`: the heat map,
 * the distance histogram and the units view are then written as vectors by
 * their own drawing code, with no change to it.
 *
 * `tapeCanvas` wraps the context the canvas hands out: every call and style
 * assignment goes to the real context and onto the tape. A frame starts where
 * the view asks for the context again (our views do, through `sharpContext`,
 * on each draw) or resizes the canvas. A tape that grows past `MAX_CALLS`
 * stops recording: the export then embeds the canvas' pixels instead.
 */
import { SvgContext } from "./svg_context";

/** A call (`name`, arguments) or a style assignment (`=`, property, value). */
type Entry = readonly [string, readonly unknown[]] | readonly ["=", string, unknown];

/** More calls than this in one frame are not recorded (the pixels are exported instead). */
const MAX_CALLS = 400_000;

interface Tape {
  entries: Entry[];
  overflow: boolean;
  /** The canvas' size when the frame started (a resize clears it). */
  width: number;
  height: number;
}

const tapes = new WeakMap<HTMLCanvasElement, Tape>();

/** Calls that only read: not recorded. */
const READS = new Set(["measureText", "getLineDash", "getTransform", "isPointInPath", "isPointInStroke", "getImageData", "getContextAttributes"]);

/** Starts recording what is drawn on `canvas` (once per canvas). */
export function tapeCanvas(canvas: HTMLCanvasElement): void {
  if (tapes.has(canvas)) return;
  const real = canvas.getContext("2d");
  if (real === null) return;
  const tape: Tape = { entries: [], overflow: false, width: canvas.width, height: canvas.height };
  tapes.set(canvas, tape);
  const record = (entry: Entry) => {
    if (canvas.width !== tape.width || canvas.height !== tape.height) restart(tape, canvas);
    if (tape.overflow) return;
    if (tape.entries.length >= MAX_CALLS) {
      tape.overflow = true;
      tape.entries = [];
      return;
    }
    tape.entries.push(entry);
  };
  const proxy = new Proxy(real, {
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
  const own = canvas.getContext.bind(canvas) as (kind: string, options?: unknown) => RenderingContext | null;
  Object.defineProperty(canvas, "getContext", {
    configurable: true,
    value: (kind: string, options?: unknown) => {
      if (kind !== "2d") return own(kind, options);
      restart(tape, canvas);
      return proxy;
    },
  });
}

function restart(tape: Tape, canvas: HTMLCanvasElement): void {
  tape.entries = [];
  tape.overflow = false;
  tape.width = canvas.width;
  tape.height = canvas.height;
}

/**
 * Replays the canvas' last frame into `ctx`; false when there is none that
 * can be replayed (not taped, too long, or a call the recorder lacks), and
 * then the caller embeds the pixels.
 */
export function replayCanvas(canvas: HTMLCanvasElement, ctx: SvgContext): boolean {
  const tape = tapes.get(canvas);
  if (tape === undefined || tape.overflow || tape.entries.length === 0) return false;
  if (canvas.width !== tape.width || canvas.height !== tape.height) return false;
  const target = ctx as unknown as Record<string, unknown>;
  try {
    for (const entry of tape.entries) {
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
