/**
 * The focus sequence's input: each token coloured by the prediction after it
 * (hue = class, strength = confidence), the step where the prediction last
 * flipped marked (a flip at the table's threshold, `domain/flips.ts`);
 * single-character tokens sit close together, so a word reads as a word;
 * numeric sequences as a strip of steps. Hovering a token is
 * hovering its point everywhere. The checkpoint's annotation tracks show as
 * rows of cells under the tokens, each cell under its token (a step is then a
 * column: its token over its cells); which tracks show is chosen above them.
 */
import { classColor, confidenceColor } from "../ui/colors";
import { h, setChildren } from "../ui/dom";
import { flipStepOf } from "../domain/flips";
import type { CheckpointData } from "../domain/model";
import { characterTokens } from "../domain/panel_model";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { addStyles } from "../ui/styles";
import { bindStepHover } from "../ui/hover";
import { focusedSequence } from "../state/selection";
import { annotationCellElement, numericScale } from "../ui/annotation_cells";
import { formatValue, trackText } from "../domain/annotations";

const CSS = `
#input-tokens { line-height: 1.9; max-height: 220px; overflow: auto; overflow-wrap: break-word; }
#input-tokens .token { display: inline-block; max-width: 100%; padding: 1px 3px; margin: 0 1px; line-height: 1.5; border-radius: 3px; cursor: default; white-space: pre-wrap; overflow-wrap: anywhere; }
#input-tokens .token.flip { box-shadow: inset 0 -2px 0 var(--rh-fg); }
#input-tokens .token.hovered { outline: 2px solid var(--rh-highlight); }
#input-tokens .token.brushed { text-decoration: underline 2px var(--rh-accent); }
#input-tokens.chars .token { padding: 1px 1px; margin: 0; border-radius: 1px; }
#input-tokens.numeric { display: flex; flex-wrap: wrap; gap: 1px; line-height: normal; }
#input-tokens.numeric .token { width: 14px; height: 22px; padding: 0; margin: 0; border-radius: 1px; }
.class-legend { display: flex; flex-wrap: wrap; gap: 2px 12px; margin-top: 6px; color: var(--rh-muted); }
.class-legend .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
#input-caption { color: var(--rh-muted); margin: 0 0 6px; }
#input-tracks { display: flex; flex-wrap: wrap; gap: 2px 10px; margin: 0 0 6px; color: var(--rh-muted); font-size: 12px; }
#input-tracks:empty { display: none; }
#input-tracks label { display: inline-flex; align-items: center; gap: 3px; }
#input-tokens.with-tracks .step { display: inline-flex; flex-direction: column; vertical-align: top; gap: 1px; margin: 0 1px 4px; }
#input-tokens.with-tracks .step .token { margin: 0; }
#input-tokens.numeric.with-tracks .step { margin: 0; }
`;

export function legend(data: CheckpointData): HTMLElement {
  return h(
    "div",
    { class: "class-legend" },
    ...data.classNames.map((name, k) => h("span", {}, h("span", { class: "swatch", style: `background:${classColor(k)}` }), name)),
  );
}

export function mountInputView(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("input", CSS);
  const caption = h("p", { id: "input-caption" });
  const tokens = h("div", { id: "input-tokens", "data-testid": "input-tokens" });
  const legendBox = h("div");
  // Which annotation tracks show under the tokens: all but those the user unticked (kept across checkpoints).
  const trackChooser = h("div", { id: "input-tracks", "data-testid": "input-tracks" });
  const hiddenTracks = new Set<string>();
  parent.append(h("h2", {}, "Input, coloured by the prediction at each step"), caption, trackChooser, tokens, legendBox);
  let spans: HTMLElement[] = [];
  let shownStart = -1;

  /** One checkbox per track of the checkpoint; ticking re-renders the tokens. */
  const renderChooser = (data: CheckpointData | null) => {
    const tracks = data?.annotations ?? [];
    setChildren(
      trackChooser,
      tracks.length > 0 && h("span", {}, "Annotations:"),
      ...tracks.map((track) => {
        const box = h("input", { type: "checkbox", "data-track": track.name, checked: !hiddenTracks.has(track.name) });
        box.addEventListener("change", () => {
          if (box.checked) hiddenTracks.delete(track.name);
          else hiddenTracks.add(track.name);
          render(store.get());
        });
        const title = track.kind === "numeric" ? `numeric, ${formatValue(track.min)} to ${formatValue(track.max)}` : `${track.categories.length} categories`;
        // A numeric track's cells have no text: its scale beside the tick reads them.
        return h("label", { title }, box, track.name, track.kind === "numeric" && numericScale(track));
      }),
    );
  };
  const shownTracks = (data: CheckpointData) => data.annotations.filter((track) => !hiddenTracks.has(track.name));

  const render = (state: Readonly<AppState>) => {
    spans = [];
    shownStart = -1;
    const focused = focusedSequence(state);
    if (focused === null) {
      caption.textContent = state.data === null ? "" : "Select a sequence (table, confusion matrix or projection) to see its input.";
      setChildren(tokens);
      setChildren(legendBox);
      return;
    }
    const { data, sequence: i, start, end } = focused;
    shownStart = start;
    const threshold = state.table.flipThreshold;
    const flip = data.classNames.length > 0 ? flipStepOf(data, i, threshold) : -1;
    const label = data.meta.labels?.[i];
    const prediction = data.meta.predictions?.[i];
    const name = (k: number | null | undefined) => (k === null || k === undefined ? "—" : (data.classNames[k] ?? String(k)));
    // Without logged labels (e.g. a language model) "true —" would be noise: the prediction alone.
    const classes = label === null || label === undefined
      ? `predicted ${name(prediction)} at its last step`
      : `true ${name(label)}, predicted ${name(prediction)}`;
    caption.textContent =
      `Sequence ${i}: ${classes}` +
      (flip > 0
        ? `; its last flip (Δp ≥ ${threshold}) is at step ${flip}`
        : flip === 0 ? `; no flip (a change of the predicted class with Δp ≥ ${threshold})` : "");
    const numeric = data.tokens === null;
    const tracks = shownTracks(data);
    tokens.classList.toggle("numeric", numeric);
    tokens.classList.toggle("chars", !numeric && characterTokens(data, i));
    tokens.classList.toggle("with-tracks", tracks.length > 0);
    const columns: HTMLElement[] = [];
    for (let p = start; p < end; p++) {
      const step = p - start;
      const predicted = data.pointPrediction[p] ?? -1;
      const colour = predicted >= 0 ? confidenceColor(predicted, data.pointConfidence[p] ?? 0, data.classNames.length) : "transparent";
      const text = numeric ? "" : (data.vocabulary?.[data.tokens?.[p] ?? -1] ?? "?");
      const span = h("span", { class: step === flip && flip > 0 ? "token flip" : "token", "data-step": step, style: `background:${colour}` }, text);
      spans.push(span);
      if (tracks.length > 0) columns.push(h("span", { class: "step" }, span, ...tracks.map((track) => annotationCellElement(track, p, step))));
    }
    setChildren(tokens, ...(tracks.length > 0 ? columns : spans));
    setChildren(legendBox, data.classNames.length > 0 && legend(data));
    mark(state);
  };

  const mark = (state: Readonly<AppState>) => {
    const brushed = new Set<number>();
    if (state.brushed !== null) for (const p of state.brushed) if (p >= shownStart && p < shownStart + spans.length) brushed.add(p - shownStart);
    spans.forEach((span, step) => {
      span.classList.toggle("hovered", state.hover === shownStart + step);
      span.classList.toggle("brushed", brushed.has(step));
    });
  };

  // Hovering a token or one of its cells; the tooltip adds what the shown tracks say there.
  bindStepHover(store, tokens, ".token, .annotation-cell", () => shownStart, (_element, step) => {
    const data = store.get().data;
    return data === null ? [] : shownTracks(data).map((track) => `${track.name}: ${trackText(track, shownStart + step)}`);
  });

  store.subscribe((state, previous) => {
    if (state.data !== previous.data) renderChooser(state.data);
    const threshold = state.table.flipThreshold !== previous.table.flipThreshold;
    if (state.data !== previous.data || state.focus !== previous.focus || threshold) render(state);
    else if (state.hover !== previous.hover || state.brushed !== previous.brushed) mark(state);
  });
  renderChooser(store.get().data);
  render(store.get());
}
