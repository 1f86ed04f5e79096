/** Summary of one checkpoint and a table of its first sequences. */
import type { SequencesResponse } from "../api";
import { h, setChildren } from "../dom";

/** Rows shown in the table; the full data set can be large. */
export const TABLE_ROWS = 20;
/** Class names listed in the summary before eliding the rest. */
const MAX_CLASS_NAMES = 20;

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

function className(data: SequencesResponse, index: number | undefined): string {
  if (index === undefined || index === null) return "—";
  return data.class_names?.[index] ?? String(index);
}

function classList(data: SequencesResponse): string {
  const names = data.class_names ?? [];
  if (names.length === 0) return plural(data.num_classes, "class", "classes");
  const shown = names.slice(0, MAX_CLASS_NAMES).join(", ");
  const more = names.length > MAX_CLASS_NAMES ? `, … (${names.length - MAX_CLASS_NAMES} more)` : "";
  return `${plural(data.num_classes, "class", "classes")}: ${shown}${more}`;
}

export interface SummaryView {
  show(data: SequencesResponse): void;
  clear(): void;
}

export function mountSummary(parent: HTMLElement): SummaryView {
  const summary = h("div", { id: "summary", "data-testid": "summary", hidden: true });
  const table = h("table", { id: "sequence-table", "data-testid": "sequence-table", hidden: true });
  parent.append(summary, table);

  return {
    show(data) {
      const facts = [
        plural(data.num_sequences, "sequence"),
        `max length ${data.max_length}`,
        plural(data.state_size, "unit"),
        data.num_classes > 0 ? classList(data) : null,
        data.accuracy !== null ? `accuracy ${(data.accuracy * 100).toFixed(1)}%` : null,
      ].filter((fact): fact is string => fact !== null);
      setChildren(summary, ...facts.map((fact) => h("span", { class: "fact" }, fact)));
      summary.hidden = false;

      const rows = Math.min(data.num_sequences, data.lengths.length, TABLE_ROWS);
      const body = h("tbody");
      for (let i = 0; i < rows; i++) {
        const label = data.labels?.[i];
        const prediction = data.predictions?.[i];
        const confidence = data.confidences?.[i];
        const wrong = label !== undefined && prediction !== undefined && label !== prediction;
        body.append(
          h(
            "tr",
            { "data-index": i, class: wrong ? "wrong" : undefined },
            h("td", { class: "num" }, i),
            h("td", { class: "num" }, data.lengths[i]),
            h("td", {}, className(data, label)),
            h("td", {}, className(data, prediction)),
            h("td", { class: "num" }, confidence !== undefined ? confidence.toFixed(3) : "—"),
          ),
        );
      }
      const caption =
        data.num_sequences > rows ? `First ${rows} of ${data.num_sequences} sequences` : null;
      setChildren(
        table,
        caption !== null && h("caption", {}, caption),
        h(
          "thead",
          {},
          h("tr", {}, ...["#", "length", "label", "prediction", "confidence"].map((c) => h("th", { scope: "col" }, c))),
        ),
        body,
      );
      table.hidden = false;
    },
    clear() {
      setChildren(summary);
      setChildren(table);
      summary.hidden = table.hidden = true;
    },
  };
}
