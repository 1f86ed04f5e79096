/**
 * A run of tokens with its context, as the search and neighbour lists show
 * it: the context muted, the run itself marked. Tokens are logged strings and
 * enter as text nodes only.
 */
import type { TokenWindow } from "../domain/search";
import { h } from "./dom";
import { addStyles } from "./styles";

const CSS = `
.token-window { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.token-window .tw-token { padding: 0 1px; margin-right: 2px; border-radius: 2px; }
.token-window.joined .tw-token { margin-right: 0; padding: 0; }
.token-window .tw-context { color: var(--rh-muted); }
.token-window .tw-inside { background: var(--rh-selected); color: var(--rh-fg); box-shadow: inset 0 -2px 0 var(--rh-accent); }
.token-window .tw-clip { color: var(--rh-muted); }
`;

/**
 * `window` as inline text; `joined` when the vocabulary is single characters
 * (the tokens then read as one string, as the regex search sees them).
 */
export function tokenWindowElement(window: TokenWindow, joined: boolean): HTMLElement {
  addStyles("token-window", CSS);
  const token = (text: string, cls: string) => h("span", { class: `tw-token ${cls}` }, text);
  return h(
    "span",
    { class: joined ? "token-window joined" : "token-window" },
    window.clippedBefore && h("span", { class: "tw-clip" }, "… "),
    ...window.before.map((t) => token(t, "tw-context")),
    ...window.inside.map((t) => token(t, "tw-inside")),
    ...window.after.map((t) => token(t, "tw-context")),
    window.clippedAfter && h("span", { class: "tw-clip" }, " …"),
  );
}

/** Whether every vocabulary entry is one character (text is then tokens joined by ""). */
export function singleCharacterVocabulary(vocabulary: readonly string[] | null): boolean {
  return vocabulary !== null && vocabulary.length > 0 && vocabulary.every((v) => [...v].length === 1);
}
