/**
 * Page styles, injected as a <style> element: TensorBoard's CSP allows inline
 * styles but no inline scripts or external hosts, and a single bundle is simpler
 * to ship than a separate stylesheet.
 */
/**
 * How the columns share their height where the frame is wide and tall enough
 * (the media query of the column layout), so that a column has one scroll
 * area, not a scrolling column around a scrolling table:
 * - left: the overview at its height, the sequence table takes the rest and
 *   scrolls inside (down to a least height of a few rows; only below it, as
 *   with LSTMVis' row open in a short frame, does the column scroll too);
 * - right: the input's tokens give up height first (they scroll), the heat map
 *   keeps its rows, the step distances share what is left between their bars
 *   and the histogram (views/distances.ts sizes both to their boxes);
 * - centre: the projection fills it (views/projection/elements.ts).
 * The columns keep `overflow-y: auto` as the fallback when even the least
 * heights do not fit.
 */
const FIT = `
@media (min-width: 1101px) and (min-height: 561px) {
  .column-left > #table-panel { flex: 1 1 0; min-height: 190px; display: flex; flex-direction: column; }
  .column-left > #table-panel > * { flex: 0 0 auto; }
  .column-left #sequence-scroll { flex: 1 1 0; min-height: 0; max-height: none; }
  .column-right { container: right-column / size; }
}
/* Only where the right column holds its panels at their least heights: shorter (LSTMVis' row open
   in a short frame), the column scrolls and the panels keep their own heights. */
@container right-column (min-height: 500px) {
  #input-panel { flex: 0 1 auto; min-height: 100px; display: flex; flex-direction: column; overflow: hidden; }
  #input-panel > * { flex: 0 0 auto; }
  #input-tokens { flex: 0 1 auto; min-height: 2.2em; }
  #distance-panel { flex: 1 1 auto; min-height: 150px; display: flex; flex-direction: column; }
}
`;

const CSS = `
:root {
  color-scheme: light;
  --rh-bg: #f5f5f5; --rh-card: #ffffff; --rh-fg: #212121; --rh-muted: #616161;
  --rh-border: #e0e0e0; --rh-accent: #f57c00; --rh-highlight: #1976d2;
  --rh-row-hover: #f1f3f4; --rh-selected: #fff3e0; --rh-error-bg: #fdecea; --rh-error-fg: #b71c1c;
  --rh-info-bg: #e3f2fd;
}
:root[data-theme="dark"] {
  color-scheme: dark;
  --rh-bg: #202124; --rh-card: #303134; --rh-fg: #e8eaed; --rh-muted: #9aa0a6;
  --rh-border: #5f6368; --rh-accent: #ef8e34; --rh-highlight: #8ab4f8;
  --rh-row-hover: #3c4043; --rh-selected: #4a3a28; --rh-error-bg: #5c2b29; --rh-error-fg: #f6aea9;
  --rh-info-bg: #1e3a5f;
}
body {
  margin: 0;
  background: var(--rh-bg);
  color: var(--rh-fg);
  font: 13px Roboto, "Helvetica Neue", Arial, sans-serif;
}
html, body { height: 100%; }
/* The tab fills TensorBoard's frame: controls on top, the views below; the frame never scrolls.
   In each column one part takes the height the others leave and scrolls (see FIT below), so the
   controls, the projection and the distance histogram stay in sight at 1280x800. */
#rnn-hidden-app { padding: 10px 12px; display: flex; flex-direction: column; gap: 10px; box-sizing: border-box; height: 100vh; }
#rnn-hidden-app > * { flex: 0 0 auto; }
.card { background: var(--rh-card); border: 1px solid var(--rh-border); border-radius: 4px; padding: 10px 12px; min-width: 0; }
/* A panel contains what it positions absolutely (visually hidden hints): placed against the page
   instead, a hint below a column's fold would make the whole frame scroll. */
.panel { position: relative; }
.panel h2 { font-size: 13px; font-weight: 500; margin: 0 0 8px; color: var(--rh-muted); text-transform: none; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 20px; }
.field { display: flex; align-items: center; gap: 6px; }
.field-wide { flex: 1 1 320px; }
.field label, .field .label { font-weight: 500; color: var(--rh-muted); }
select, input, button { font: inherit; color: inherit; }
select, input[type="number"] { background: var(--rh-card); border: 1px solid var(--rh-border); border-radius: 3px; padding: 2px 4px; max-width: 24em; }
input[type="number"] { width: 5.5em; }
button { background: var(--rh-card); border: 1px solid var(--rh-border); border-radius: 3px; padding: 3px 10px; cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--rh-accent); }
button:disabled { opacity: 0.5; cursor: default; }
button[aria-pressed="true"] { background: var(--rh-accent); color: #fff; border-color: var(--rh-accent); }
#step-slider { flex: 1 1 auto; min-width: 120px; accent-color: var(--rh-accent); }
#step-label, #step-time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.muted { color: var(--rh-muted); }
#tag-description { flex-basis: 100%; margin: 0; }
#tag-description:empty { display: none; }
#message { padding: 8px 12px; border-radius: 4px; background: var(--rh-info-bg); }
#message[data-kind="error"] { background: var(--rh-error-bg); color: var(--rh-error-fg); }
#message[hidden], [hidden] { display: none !important; }
.checkpoint[aria-busy="true"] { opacity: 0.7; }
#rnn-hidden-app > #views { display: grid; grid-template-columns: minmax(340px, 32%) minmax(380px, 1fr) minmax(300px, 27%);
  grid-template-rows: minmax(0, 1fr); gap: 10px; align-items: stretch; flex: 1 1 0; min-height: 0; }
.column { display: flex; flex-direction: column; gap: 10px; min-width: 0; min-height: 0; overflow-y: auto; scrollbar-width: thin; }
.column > * { flex: 0 0 auto; }
${FIT}
/* Narrow or short frames: one page that scrolls. */
@media (max-width: 1100px), (max-height: 560px) {
  #rnn-hidden-app { height: auto; }
  #rnn-hidden-app > #views { grid-template-rows: none; align-items: start; }
  .column { overflow: visible; }
}
@media (max-width: 1100px) { #rnn-hidden-app > #views { grid-template-columns: 1fr 1fr; } .column-centre { grid-column: 1 / -1; grid-row: 1; } }
#projection-progress { display: flex; align-items: center; gap: 8px; flex-basis: 100%; }
#projection-progress progress { flex: 0 1 260px; height: 6px; border: none; border-radius: 3px; appearance: none; -webkit-appearance: none; background: var(--rh-border); }
/* An explicit track and fill: Chromium's default track at 0 % reads as a full bar. */
#projection-progress progress::-webkit-progress-bar { background: var(--rh-border); border-radius: 3px; }
#projection-progress progress::-webkit-progress-value { background: var(--rh-accent); border-radius: 3px; }
#projection-progress progress::-moz-progress-bar { background: var(--rh-accent); border-radius: 3px; }
#projection-form .form-error { color: var(--rh-error-fg); background: var(--rh-error-bg); border-radius: 3px; padding: 1px 6px; }
#projection-form { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 14px; flex-basis: 100%; border-top: 1px solid var(--rh-border); padding-top: 8px; }
#tooltip { position: fixed; z-index: 10; pointer-events: none; background: var(--rh-card); color: var(--rh-fg);
  border: 1px solid var(--rh-border); border-radius: 3px; padding: 4px 8px; box-shadow: 0 2px 6px rgba(0,0,0,0.25);
  font-size: 12px; max-width: 320px; white-space: pre-wrap; overflow-wrap: anywhere; }
`;

export function injectStyles(doc: Document = document): void {
  if (doc.getElementById("rnn-hidden-styles")) return;
  const style = doc.createElement("style");
  style.id = "rnn-hidden-styles";
  style.textContent = CSS;
  doc.head.appendChild(style);
}

/**
 * Adds a view's own CSS once (by `id`). Views use the theme variables that the
 * page styles define (`--rh-bg`, `--rh-card`, `--rh-fg`, `--rh-muted`,
 * `--rh-border`, `--rh-accent`, `--rh-highlight`), so they follow the theme.
 */
export function addStyles(id: string, css: string, doc: Document = document): void {
  const elementId = `rnn-hidden-styles-${id}`;
  if (doc.getElementById(elementId)) return;
  const style = doc.createElement("style");
  style.id = elementId;
  style.textContent = css;
  doc.head.appendChild(style);
}

/** A theme variable's current value, for canvas drawing (which cannot use CSS variables). */
export function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}
