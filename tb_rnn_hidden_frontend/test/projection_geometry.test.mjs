// Unit tests of the projection view's pure geometry (src/domain/projection_geometry.ts,
// bundled to build/domain/projection_geometry.mjs by `npm test`): the view transform,
// grid hit-testing, box and lasso membership. Each is checked against a
// brute-force answer on random points, so a wrong grid cell bound fails.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  buildGrid,
  dataBounds,
  easeInOut,
  fitTransform,
  lerpCoords,
  nearestPoint,
  panBy,
  pointInPolygon,
  pointsInBox,
  pointsInDistanceRange,
  pointsInPolygon,
  sequencesOf,
  toData,
  toScreen,
  zoomAt,
} from "../build/domain/projection_geometry.mjs";

/** Deterministic pseudo-random coordinates (mulberry32), P x 2. */
function randomCoords(n, seed = 1, scale = 10) {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(2 * n);
  for (let i = 0; i < 2 * n; i++) out[i] = (rand() - 0.5) * scale;
  return out;
}

const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test("toScreen and toData invert each other; data y grows upwards", () => {
  const t = { k: 2.5, tx: 100, ty: 50 };
  const [sx, sy] = toScreen(t, 3, 4);
  assert.deepEqual([sx, sy], [107.5, 40]);
  const [x, y] = toData(t, sx, sy);
  close(x, 3);
  close(y, 4);
});

test("fitTransform shows all points inside the margins, centred", () => {
  const coords = new Float32Array([-1, -2, 3, 6, 0, 0]);
  const b = dataBounds(coords);
  assert.deepEqual(b, { minX: -1, minY: -2, maxX: 3, maxY: 6 });
  const t = fitTransform(b, 400, 200, 20);
  // Height limits: 160 px for 8 units.
  close(t.k, 20);
  const [x0, y0] = toScreen(t, -1, 6);
  const [x1, y1] = toScreen(t, 3, -2);
  close((x0 + x1) / 2, 200);
  close(y0, 20);
  close(y1, 180);
});

test("dataBounds skips non-finite points; an empty layout fits without NaN", () => {
  assert.deepEqual(dataBounds(new Float32Array([NaN, 1, 2, 3])), { minX: 2, minY: 3, maxX: 2, maxY: 3 });
  const t = fitTransform(dataBounds(new Float32Array(0)), 100, 100);
  assert.ok(Number.isFinite(t.k) && Number.isFinite(t.tx) && Number.isFinite(t.ty));
});

test("zoomAt keeps the point under the cursor fixed; panBy moves everything", () => {
  const t = { k: 3, tx: 10, ty: 200 };
  const before = toData(t, 120, 80);
  const z = zoomAt(t, 120, 80, 1.7);
  close(z.k, 5.1);
  const after = toData(z, 120, 80);
  close(after[0], before[0], 1e-9);
  close(after[1], before[1], 1e-9);
  const p = panBy(z, 5, -7);
  const [sx, sy] = toScreen(p, 1, 1);
  const [ox, oy] = toScreen(z, 1, 1);
  close(sx - ox, 5);
  close(sy - oy, -7);
});

test("nearestPoint finds the brute-force nearest within the radius", () => {
  const coords = randomCoords(5000, 7);
  const grid = buildGrid(coords);
  const queries = randomCoords(300, 99, 12);
  for (let q = 0; q < 300; q++) {
    const x = queries[2 * q];
    const y = queries[2 * q + 1];
    for (const radius of [0.05, 0.3, 2]) {
      let best = -1;
      let bestD = radius * radius;
      for (let p = 0; p < 5000; p++) {
        const d = (coords[2 * p] - x) ** 2 + (coords[2 * p + 1] - y) ** 2;
        if (d < bestD || (d === bestD && p > best)) {
          best = p;
          bestD = d;
        }
      }
      assert.equal(nearestPoint(grid, x, y, radius), best, `query ${q} radius ${radius}`);
    }
  }
});

test("nearestPoint: a point exactly at the grid's max corner, and outside the data", () => {
  const coords = new Float32Array([0, 0, 1, 1, 0.5, 0.25]);
  const grid = buildGrid(coords, 1);
  assert.equal(nearestPoint(grid, 1, 1, 0.01), 1);
  assert.equal(nearestPoint(grid, 5, 5, 1), -1);
  assert.equal(nearestPoint(grid, 0.52, 0.26, 0.1), 2);
  assert.equal(nearestPoint(grid, 0.52, 0.26, 0.1, (p) => p !== 2), -1);
});

test("pointsInBox equals a brute-force scan, in either corner order, inclusive", () => {
  const coords = randomCoords(20000, 3);
  const grid = buildGrid(coords);
  const boxes = [
    [-2, -1, 1.5, 3],
    [1.5, 3, -2, -1],
    [4.9, 4.9, 10, 10],
    [-100, -100, 100, 100],
    [20, 20, 30, 30],
  ];
  for (const [x0, y0, x1, y1] of boxes) {
    const expected = [];
    for (let p = 0; p < 20000; p++) {
      const x = coords[2 * p];
      const y = coords[2 * p + 1];
      if (x >= Math.min(x0, x1) && x <= Math.max(x0, x1) && y >= Math.min(y0, y1) && y <= Math.max(y0, y1)) {
        expected.push(p);
      }
    }
    assert.deepEqual([...pointsInBox(grid, x0, y0, x1, y1)], expected);
  }
  const edge = new Float32Array([1, 1, 2, 2]);
  assert.deepEqual([...pointsInBox(buildGrid(edge), 1, 1, 2, 2)], [0, 1]);
});

test("pointInPolygon: convex, concave (L shape) and self-crossing polygons", () => {
  const square = [0, 0, 4, 0, 4, 4, 0, 4];
  assert.equal(pointInPolygon(square, 2, 2), true);
  assert.equal(pointInPolygon(square, 5, 2), false);
  const ell = [0, 0, 4, 0, 4, 1, 1, 1, 1, 4, 0, 4];
  assert.equal(pointInPolygon(ell, 0.5, 3), true);
  assert.equal(pointInPolygon(ell, 3, 3), false); // in the notch
  assert.equal(pointInPolygon(ell, 3, 0.5), true);
  const bowtie = [0, 0, 4, 4, 4, 0, 0, 4];
  assert.equal(pointInPolygon(bowtie, 1, 2), true);
  assert.equal(pointInPolygon(bowtie, 2, 3.5), false);
  assert.equal(pointInPolygon([0, 0, 1, 1], 0.5, 0.5), false); // degenerate
});

test("pointsInPolygon equals a brute-force scan for a lasso with a notch", () => {
  const coords = randomCoords(10000, 11);
  const grid = buildGrid(coords);
  const lasso = [-4, -4, 4, -4, 4, 0, 0, 0, 0, 4, -4, 4];
  const expected = [];
  for (let p = 0; p < 10000; p++) {
    if (pointInPolygon(lasso, coords[2 * p], coords[2 * p + 1])) expected.push(p);
  }
  assert.ok(expected.length > 1000);
  assert.deepEqual([...pointsInPolygon(grid, lasso)], expected);
  assert.deepEqual([...pointsInPolygon(grid, [0, 0, 1, 1])], []);
});

test("sequencesOf: distinct sequences of the points, ascending", () => {
  const pointSequence = new Int32Array([0, 0, 0, 1, 1, 2, 2, 2]);
  assert.deepEqual(sequencesOf(new Int32Array([7, 1, 0, 5]), pointSequence), [0, 2]);
  assert.deepEqual(sequencesOf(new Int32Array([]), pointSequence), []);
});

test("pointsInDistanceRange uses the transition arriving at each point", () => {
  // Two sequences of lengths 3 and 2: points 0,1,2 | 3,4; transitions 0->1, 1->2 | 3->4.
  const pointSequence = new Int32Array([0, 0, 0, 1, 1]);
  const pointStep = new Int32Array([0, 1, 2, 0, 1]);
  const distances = new Float32Array([0.2, 0.9, 0.5]);
  assert.deepEqual([...pointsInDistanceRange(pointSequence, pointStep, distances, 0.4, 1)], [0, 0, 1, 0, 1]);
  assert.deepEqual([...pointsInDistanceRange(pointSequence, pointStep, distances, 0, 0.3)], [0, 1, 0, 0, 0]);
});

test("lerpCoords and easeInOut: the animation starts and ends exactly on the layouts", () => {
  const a = new Float32Array([0, 0, 10, -10]);
  const b = new Float32Array([2, 4, 0, 0]);
  const out = new Float32Array(4);
  assert.deepEqual([...lerpCoords(a, b, easeInOut(0), out)], [0, 0, 10, -10]);
  assert.deepEqual([...lerpCoords(a, b, easeInOut(1), out)], [2, 4, 0, 0]);
  assert.deepEqual([...lerpCoords(a, b, 0.5, out)], [1, 2, 5, -5]);
  close(easeInOut(0.5), 0.5);
  assert.equal(easeInOut(2), 1);
});

import { matchSpread } from "../build/domain/projection_geometry.mjs";

test("matchSpread brings a layout to another's centroid and RMS spread, keeping its shape", () => {
  const from = new Float32Array([0, 0, 2, 0, 0, 2, 2, 2]); // a square of side 2 at (1, 1)
  const to = new Float32Array([100, 100, 110, 100, 100, 90, 110, 90]); // centroid (105, 95)
  const out = matchSpread(from, to);
  const mean = (c, k) => [0, 1, 2, 3].reduce((s, i) => s + c[2 * i + k], 0) / 4;
  const rms = (c) => Math.sqrt([0, 1, 2, 3].reduce((s, i) => s + (c[2 * i] - mean(c, 0)) ** 2 + (c[2 * i + 1] - mean(c, 1)) ** 2, 0) / 4);
  assert.ok(Math.abs(mean(out, 0) - 105) < 1e-4 && Math.abs(mean(out, 1) - 95) < 1e-4);
  assert.ok(Math.abs(rms(out) - rms(to)) < 1e-4);
  assert.deepEqual([...out.slice(0, 2)], [100, 90]); // (0, 0) -> the lower-left corner, scaled by 5
  assert.notEqual(out, from);
  // A layout collapsed to one point is only moved.
  assert.deepEqual([...matchSpread(new Float32Array([3, 3, 3, 3]), to)], [105, 95, 105, 95]);
});
