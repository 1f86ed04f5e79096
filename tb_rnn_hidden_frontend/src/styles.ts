/**
 * Page styles, injected as a <style> element: TensorBoard's CSP allows inline
 * styles but no inline scripts or external hosts, and a single bundle is simpler
 * to ship than a separate stylesheet.
 */
const CSS = `
:root { color-scheme: light; }
body {
  margin: 0;
  background: #f5f5f5;
  color: #212121;
  font: 13px Roboto, "Helvetica Neue", Arial, sans-serif;
}
#rnn-hidden-app { padding: 16px; display: flex; flex-direction: column; gap: 12px; }
.card { background: #fff; border: 1px solid #e0e0e0; border-radius: 4px; padding: 12px 16px; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; }
.field { display: flex; align-items: center; gap: 8px; }
.field-wide { flex: 1 1 360px; }
.field label { font-weight: 500; color: #616161; }
select { font: inherit; padding: 2px 4px; max-width: 24em; }
#step-slider { flex: 1 1 auto; min-width: 120px; accent-color: #f57c00; }
#step-label, #step-time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.muted { color: #757575; }
#tag-description { flex-basis: 100%; margin: 0; }
#tag-description:empty { display: none; }
#message { padding: 8px 12px; border-radius: 4px; background: #e3f2fd; }
#message[data-kind="error"] { background: #fdecea; color: #b71c1c; }
#message[hidden], [hidden] { display: none !important; }
.checkpoint[aria-busy="true"] { opacity: 0.6; }
#summary { display: flex; flex-wrap: wrap; gap: 4px 20px; margin-bottom: 12px; }
#sequence-table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
#sequence-table caption { text-align: left; padding-bottom: 4px; color: #757575; }
#sequence-table th, #sequence-table td { padding: 3px 12px; border-bottom: 1px solid #eee; text-align: left; }
#sequence-table th { font-weight: 500; color: #616161; }
#sequence-table td.num { text-align: right; }
#sequence-table tr.wrong td { color: #c62828; }
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
