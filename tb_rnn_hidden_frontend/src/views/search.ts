/**
 * The token search panel: a query box with its mode (exact, prefix, regex),
 * the hits listed as their tokens with context, how many there are, and the
 * route's message when the query is invalid. Typing writes `state.search`
 * (controllers/search.ts runs it and lights the hits); clicking a hit focuses
 * its sequence. Disabled, with the reason, on a checkpoint without tokens.
 */
import type { SearchMode } from "../api/types";
import { searchUnavailable, tokenWindow } from "../domain/search";
import type { AppState } from "../state/app_state";
import { HITS_LISTED, searchKey } from "../state/search_state";
import type { Store } from "../state/store";
import { h, options, setChildren } from "../ui/dom";
import { bindListFocus } from "../ui/list_focus";
import { addStyles } from "../ui/styles";
import { singleCharacterVocabulary, tokenWindowElement } from "../ui/token_window";

/** Tokens of context either side of a hit. */
const HIT_CONTEXT = 4;

const CSS = `
.search-form { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 6px; }
.search-form input[type="search"] { flex: 1 1 10em; min-width: 6em; background: var(--rh-card); border: 1px solid var(--rh-border); border-radius: 3px; padding: 2px 4px; }
.lit-status { color: var(--rh-muted); font-size: 12px; }
.lit-status[data-lit="true"] { color: var(--rh-fg); }
.panel-error { color: var(--rh-error-fg); background: var(--rh-error-bg); border-radius: 3px; padding: 2px 6px; margin: 4px 0; overflow-wrap: anywhere; }
.hit-list { list-style: none; margin: 4px 0 0; padding: 0; max-height: 260px; overflow: auto; }
.hit-list li { display: flex; gap: 8px; align-items: baseline; padding: 2px 4px; border-radius: 3px; cursor: pointer; }
.hit-list li:hover { background: var(--rh-row-hover); }
.hit-list li.focused { background: var(--rh-selected); }
.hit-list .hit-where { color: var(--rh-muted); font-size: 11px; white-space: nowrap; font-variant-numeric: tabular-nums; }
`;

const MODES: readonly [SearchMode, string][] = [["exact", "exact tokens"], ["prefix", "token prefixes"], ["regex", "regular expression"]];

export function mountSearch(parent: HTMLElement, store: Store<AppState>): void {
  addStyles("search", CSS);
  const input = h("input", {
    type: "search", id: "search-query", "data-testid": "search-query", "aria-label": "Token search",
    placeholder: "tokens, e.g. ( ( or a regex", autocomplete: "off", spellcheck: "false",
  });
  const mode = h("select", { id: "search-mode", "data-testid": "search-mode", "aria-label": "Search mode" }, ...options(MODES));
  const status = h("div", { id: "search-status", class: "lit-status", "data-testid": "search-status", role: "status" });
  const error = h("div", { id: "search-error", class: "panel-error", "data-testid": "search-error", role: "alert", hidden: true });
  const list = h("ol", { id: "search-hits", class: "hit-list", "data-testid": "search-hits" });
  parent.append(h("h2", {}, "Token search"), h("div", { class: "search-form" }, input, mode), status, error, list);

  input.addEventListener("input", () => store.set({ search: { ...store.get().search, text: input.value } }));
  mode.addEventListener("change", () => store.set({ search: { ...store.get().search, mode: mode.value as SearchMode } }));
  bindListFocus(list, store);

  const renderList = (state: Readonly<AppState>) => {
    const { data, search } = state;
    const current = data !== null && search.resultFor === searchKey(data.key, search.text.trim(), search.mode);
    if (data === null || !current || search.result === null) {
      setChildren(list);
      return;
    }
    const joined = singleCharacterVocabulary(data.vocabulary);
    setChildren(
      list,
      ...search.result.hits.slice(0, HITS_LISTED).map((hit) => {
        const window = tokenWindow(data, hit.sequence, hit.start, hit.end, HIT_CONTEXT);
        const where = hit.end - hit.start > 1 ? `steps ${hit.start}–${hit.end - 1}` : `step ${hit.start}`;
        return h(
          "li",
          { "data-sequence": hit.sequence, "data-start": hit.start, "data-end": hit.end, "data-point": hit.point, tabindex: 0, class: state.focus === hit.sequence ? "focused" : undefined },
          h("span", { class: "hit-where" }, `seq ${hit.sequence}, ${where}`),
          window !== null ? tokenWindowElement(window, joined) : h("span", { class: "muted" }, "(outside the sequence)"),
        );
      }),
    );
  };

  const renderStatus = (state: Readonly<AppState>) => {
    const { data, search, lit } = state;
    const reason = searchUnavailable(data);
    input.disabled = reason !== null;
    mode.disabled = reason !== null;
    input.title = reason ?? "";
    if (input.value !== search.text && document.activeElement !== input) input.value = search.text;
    mode.value = search.mode;
    error.hidden = search.error === null;
    error.textContent = search.error ?? "";
    const litHere = lit?.source === "search";
    status.dataset["lit"] = String(litHere);
    status.dataset["litCount"] = litHere ? String(lit.points.length) : "0";
    const result = search.result;
    const current = data !== null && search.resultFor === searchKey(data.key, search.text.trim(), search.mode);
    let text = "";
    if (reason !== null) text = reason;
    else if (search.busy) text = "Searching…";
    else if (result !== null && current) {
      const got = result.hits.length;
      const listed = Math.min(got, HITS_LISTED);
      text = `${result.total} ${result.total === 1 ? "hit" : "hits"}`;
      if (result.truncated) text += `, the first ${got} asked for`;
      if (listed < got) text += `, ${listed} listed`;
      if (litHere) text += ` · ${lit.points.length} steps lit`;
    }
    status.textContent = text;
    status.dataset["total"] = result !== null && current ? String(result.total) : "";
    status.dataset["truncated"] = result !== null && current ? String(result.truncated) : "";
  };

  store.subscribe((state, previous) => {
    if (state.search !== previous.search || state.data !== previous.data || state.lit !== previous.lit) renderStatus(state);
    if (state.search.result !== previous.search.result || state.search.resultFor !== previous.search.resultFor || state.data !== previous.data || state.focus !== previous.focus) {
      renderList(state);
    }
  });
  renderStatus(store.get());
  renderList(store.get());
}
