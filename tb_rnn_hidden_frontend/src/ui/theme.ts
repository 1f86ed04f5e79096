/**
 * Light or dark, as TensorBoard is: its page's <body> carries `dark-mode` when
 * the user turns dark mode on. Followed live (MutationObserver); outside
 * TensorBoard, the system preference.
 */
import { parseColor, type Rgb } from "./colors";

export type Theme = "light" | "dark";

function parentBody(): HTMLElement | null {
  try {
    if (window.parent !== window) return window.parent.document.body;
  } catch {
    // cross-origin parent
  }
  return null;
}

export function currentTheme(): Theme {
  const body = parentBody();
  if (body !== null) return body.classList.contains("dark-mode") ? "dark" : "light";
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** Sets `<html data-theme>` now and whenever TensorBoard's theme changes. */
export function followTheme(): void {
  const apply = () => {
    const theme = currentTheme();
    if (document.documentElement.dataset["theme"] !== theme) document.documentElement.dataset["theme"] = theme;
  };
  apply();
  const body = parentBody();
  if (body !== null) {
    new MutationObserver(apply).observe(body, { attributes: true, attributeFilter: ["class"] });
  } else {
    window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener("change", apply);
  }
}

/** The page's theme colours as canvases need them (RGB triples and CSS strings), read from the CSS variables. */
export interface CanvasTheme {
  bg: Rgb;
  bgCss: string;
  fg: string;
  fgRgb: Rgb;
  muted: string;
  highlight: string;
  highlightRgb: Rgb;
  accent: string;
}

export function readCanvasTheme(): CanvasTheme {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string) => style.getPropertyValue(name).trim();
  const dark = document.documentElement.dataset["theme"] === "dark";
  const bg = parseColor(v("--rh-card"), dark ? [48, 48, 48] : [255, 255, 255]);
  const fgRgb = parseColor(v("--rh-fg"), dark ? [230, 230, 230] : [33, 33, 33]);
  const highlightRgb = parseColor(v("--rh-highlight"), dark ? [255, 213, 79] : [255, 111, 0]);
  const rgb = (c: Rgb) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
  return {
    bg,
    bgCss: rgb(bg),
    fg: rgb(fgRgb),
    fgRgb,
    muted: v("--rh-muted") || (dark ? "#9e9e9e" : "#757575"),
    highlight: rgb(highlightRgb),
    highlightRgb,
    accent: v("--rh-accent") || "#f57c00",
  };
}
