// Compare mode's pure model (src/domain/change_table.ts, unit_drift.ts, training_chart.ts) on a generated
// /compare answer of 400 sequences, against direct loops over its labels and predictions: the change
// table's filter, transition cell and sort, the transition matrix's cells, the accuracies, the drift rows
// and the chart's geometry.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CHANGE_KINDS, changeCounts, changeRows, deltaConfidence, filterChoices, firstDescendingChange, isChange,
  sideAccuracy, transitionMembers,
} from "../build/domain/change_table.mjs";
import { topDrift } from "../build/domain/unit_drift.mjs";
import { chartColumns, columnAt, trainingChart } from "../build/domain/training_chart.mjs";
import { random } from "./random.mjs";

const N = 400;
const C = 3;

/** A /compare answer as the contract says: kinds from labels and predictions, a few levels so values tie. */
function generated({ seed = 7, labels = true } = {}) {
  const rand = random(seed);
  const pick = (k) => Math.floor(rand() * k);
  const truth = Array.from({ length: N }, () => pick(C));
  const predictionA = truth.map((t) => (rand() < 0.6 ? t : pick(C)));
  const predictionB = truth.map((t) => (rand() < 0.8 ? t : pick(C)));
  const level = () => [0.4, 0.55, 0.7, 0.9][pick(4)];
  const change = truth.map((t, i) => {
    if (!labels) return predictionA[i] === predictionB[i] ? "prediction_kept" : "prediction_changed";
    const [a, b] = [predictionA[i] === t, predictionB[i] === t];
    return a && b ? "still_correct" : !a && !b ? "still_wrong" : b ? "became_correct" : "became_wrong";
  });
  const transitions = [[0, 0], [0, 0]];
  truth.forEach((t, i) => transitions[Number(predictionA[i] === t)][Number(predictionB[i] === t)]++);
  const confidenceB = truth.map(level);
  confidenceB[5] = null; // a damaged value: sorts last, Δ missing
  return {
    a: { run: "r", tag: "lstm", step: 1 }, b: { run: "r", tag: "lstm", step: 9 },
    num_sequences: N, num_classes: C, class_names: ["x", "y", "z"],
    labels: labels ? truth : null,
    prediction_a: predictionA, prediction_b: predictionB,
    confidence_a: truth.map(level), confidence_b: confidenceB,
    change,
    last_flip_a: truth.map(() => pick(4)), last_flip_b: truth.map(() => pick(4)),
    moved: truth.map(() => pick(6) / 5), moved_max: 2.5, units: "same",
    transitions: labels ? transitions : null,
    unit_drift: null, flip_threshold: 0.1,
  };
}

/** The value a column sorts by, computed directly (null: missing). */
function value(answer, key, i) {
  const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  switch (key) {
    case "index": return i;
    case "change": return ["became_wrong", "became_correct", "still_wrong", "still_correct", "prediction_changed", "prediction_kept"].indexOf(answer.change[i]);
    case "confidence_a": return num(answer.confidence_a[i]);
    case "confidence_b": return num(answer.confidence_b[i]);
    case "delta": {
      const [a, b] = [num(answer.confidence_a[i]), num(answer.confidence_b[i])];
      return a === null || b === null ? null : b - a;
    }
    case "flip_a": return answer.last_flip_a[i];
    case "flip_b": return answer.last_flip_b[i];
    case "moved": return answer.moved[i];
  }
  throw new Error(key);
}

function expectedRows(answer, { sortKey, descending, filter, cell }) {
  const correct = (p, i) => (answer.labels === null ? null : Number(p[i] === answer.labels[i]));
  const kept = [];
  for (let i = 0; i < N; i++) {
    const kind = answer.change[i];
    if (filter === "changed" && !["became_correct", "became_wrong", "prediction_changed"].includes(kind)) continue;
    if (filter !== "all" && filter !== "changed" && kind !== filter) continue;
    if (cell !== null && (correct(answer.prediction_a, i) !== cell[0] || correct(answer.prediction_b, i) !== cell[1])) continue;
    kept.push(i);
  }
  // Missing values last either way; otherwise by the (signed) value, ties by index.
  const present = kept.filter((i) => value(answer, sortKey, i) !== null);
  const missing = kept.filter((i) => value(answer, sortKey, i) === null);
  const sign = descending ? -1 : 1;
  present.sort((x, y) => sign * value(answer, sortKey, x) - sign * value(answer, sortKey, y) || x - y);
  return [...present, ...missing];
}

const KEYS = ["index", "change", "confidence_a", "confidence_b", "delta", "flip_a", "flip_b", "moved"];

test("the change table's rows: every filter, sort column and direction, against a direct loop", () => {
  const answer = generated();
  const filters = ["all", "changed", ...CHANGE_KINDS];
  for (const filter of filters) {
    for (const sortKey of KEYS) {
      for (const descending of [false, true]) {
        const changes = { sortKey, descending, filter, cell: null };
        assert.deepEqual(changeRows(answer, changes), expectedRows(answer, changes), `${filter} ${sortKey} ${descending}`);
      }
    }
  }
  // The damaged confidence sorts last in both directions.
  for (const descending of [false, true]) {
    const rows = changeRows(answer, { sortKey: "confidence_b", descending, filter: "all", cell: null });
    assert.equal(rows[rows.length - 1], 5);
  }
});

test("a pressed transition cell keeps exactly its sequences, combined with the filter", () => {
  const answer = generated();
  for (const a of [0, 1]) {
    for (const b of [0, 1]) {
      for (const filter of ["all", "changed", "became_wrong"]) {
        const changes = { sortKey: "moved", descending: true, filter, cell: [a, b] };
        assert.deepEqual(changeRows(answer, changes), expectedRows(answer, changes));
      }
      // Unfiltered, the cell's rows are the cell's members, and as many as the matrix counts.
      const rows = changeRows(answer, { sortKey: "index", descending: false, filter: "all", cell: [a, b] });
      assert.deepEqual(rows, transitionMembers(answer, a, b));
      assert.equal(rows.length, answer.transitions[a][b]);
    }
  }
});

test("a transition cell's sequences are those wrong/correct in A and B, by a direct loop", () => {
  const answer = generated({ seed: 3 });
  let total = 0;
  for (const a of [0, 1]) {
    for (const b of [0, 1]) {
      const direct = [];
      for (let i = 0; i < N; i++) {
        const inA = answer.prediction_a[i] === answer.labels[i] ? 1 : 0;
        const inB = answer.prediction_b[i] === answer.labels[i] ? 1 : 0;
        if (inA === a && inB === b) direct.push(i);
      }
      assert.deepEqual(transitionMembers(answer, a, b), direct);
      total += direct.length;
    }
  }
  assert.equal(total, N);
  // Became wrong = correct in A, wrong in B.
  assert.deepEqual(transitionMembers(answer, 1, 0), answer.change.flatMap((k, i) => (k === "became_wrong" ? [i] : [])));
  // Without labels no sequence is in any cell.
  assert.deepEqual(transitionMembers(generated({ labels: false }), 1, 1), []);
});

test("accuracies, counts, filter choices and Δconfidence against direct computations", () => {
  const answer = generated();
  const accuracy = (p) => p.filter((x, i) => x === answer.labels[i]).length / N;
  assert.equal(sideAccuracy(answer, "a"), accuracy(answer.prediction_a));
  assert.equal(sideAccuracy(answer, "b"), accuracy(answer.prediction_b));
  assert.equal(sideAccuracy(generated({ labels: false }), "a"), null);

  const { byKind, changed } = changeCounts(answer);
  for (const kind of CHANGE_KINDS) assert.equal(byKind.get(kind) ?? 0, answer.change.filter((k) => k === kind).length);
  assert.equal(changed, answer.change.filter((k) => k === "became_correct" || k === "became_wrong").length);
  const choices = filterChoices(answer);
  assert.deepEqual(choices[0], ["all", `all (${N})`]);
  assert.deepEqual(choices[1], ["changed", `changed (${changed})`]);
  assert.ok(choices.some(([v, text]) => v === "became_wrong" && text === `became wrong (${byKind.get("became_wrong")})`));
  // Without labels the kinds are "prediction changed/kept".
  const unlabelled = generated({ labels: false });
  assert.deepEqual(filterChoices(unlabelled).map(([v]) => v).slice(2).sort(), ["prediction_changed", "prediction_kept"]);
  assert.equal(changeCounts(unlabelled).changed, unlabelled.change.filter((k) => k === "prediction_changed").length);

  const delta = deltaConfidence(answer);
  for (let i = 0; i < N; i++) {
    if (i === 5) assert.ok(Number.isNaN(delta[i]));
    else assert.ok(Math.abs(delta[i] - (answer.confidence_b[i] - answer.confidence_a[i])) < 1e-12);
  }
  assert.equal(deltaConfidence({ ...answer, confidence_a: null }), null);
  assert.ok(isChange("became_wrong") && !isChange("still_wrong") && !isChange(null));
  assert.deepEqual(KEYS.filter(firstDescendingChange), ["flip_a", "flip_b", "moved"]);
});

test("the drift rows: the first units in the answer's order, bars over the largest", () => {
  const drift = { units: [7, 2, 9, 0], drift: [0.8, 0.4, 0.2, 0], mean_a: [0.1, 0.5, -0.2, 0], mean_b: [0.9, 0.1, 0, 0] };
  const rows = topDrift(drift, 3);
  assert.deepEqual(rows.map((r) => r.unit), [7, 2, 9]);
  assert.deepEqual(rows.map((r) => r.share), [1, 0.5, 0.25]);
  assert.deepEqual([rows[1].meanA, rows[1].meanB], [0.5, 0.1]);
  assert.deepEqual(topDrift({ units: [1], drift: [0], mean_a: [0], mean_b: [0] }).map((r) => r.share), [0]);
});

test("the chart's geometry: x by step, contiguous hit columns, series in the plot, missing values break lines", () => {
  const box = { width: 300, height: 120, left: 26, right: 10, top: 8, bottom: 18 };
  const answer = {
    run: "r", tag: "t", steps: [0, 10, 20, 100], flip_threshold: 0.1,
    accuracy: [0.25, 0.5, null, 1], change: [null, 0.4, 0.2, 0.1], flips: [4, 8, 0, 2],
    top_units: [[], [1], [2], [3]], top_unit_moves: [[], [0.1], [0.2], [0.3]],
  };
  const g = trainingChart(answer, box);
  const xs = g.columns.map((c) => c.x);
  assert.equal(xs[0], box.left);
  assert.equal(xs[3], box.width - box.right);
  // By step: step 10 is a tenth of the way.
  assert.ok(Math.abs(xs[1] - (box.left + 0.1 * (box.width - box.left - box.right))) < 1e-9);
  for (let k = 1; k < g.columns.length; k++) {
    assert.ok(xs[k] > xs[k - 1]);
    assert.equal(g.columns[k].x0, g.columns[k - 1].x1, "hit columns touch");
  }
  for (const c of g.columns) {
    assert.ok(c.x0 < c.x && c.x < c.x1);
    assert.equal(columnAt(g.columns, c.x), c);
  }
  assert.equal(columnAt(g.columns, -5), null);
  const [accuracy, change, flips] = g.series;
  assert.deepEqual([accuracy.key, change.key, flips.key], ["accuracy", "change", "flips"]);
  assert.equal(g.y0, box.height - box.bottom);
  assert.equal(g.y1, box.top);
  // Accuracy on 0..1: 1 at the top, 0.5 halfway; a missing one breaks the line.
  assert.equal(accuracy.points.find((p) => p.index === 3).y, g.y1);
  assert.equal(accuracy.points.find((p) => p.index === 1).y, (g.y0 + g.y1) / 2);
  assert.deepEqual(accuracy.runs.map((run) => run.map((p) => p.index)), [[0, 1], [3]]);
  // Change and flips over their largest: that one at the top, 0 at the bottom.
  assert.equal(change.scale, 0.4);
  assert.equal(change.points.find((p) => p.index === 1).y, g.y1);
  assert.equal(flips.scale, 8);
  assert.equal(flips.points.find((p) => p.index === 2).y, g.y0);
  for (const s of g.series) for (const p of s.points) assert.ok(p.y >= g.y1 && p.y <= g.y0);
  // One checkpoint: in the middle, its hit column the whole plot.
  const [only] = chartColumns([5], box);
  assert.equal(only.x, (box.left + box.width - box.right) / 2);
  assert.ok(only.x0 <= box.left && only.x1 >= box.width - box.right);
});
