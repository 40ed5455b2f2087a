// The distortion J after every half-step, as a small SVG line chart: it never rises while
// k-means runs (a dragged centroid starts a new segment).
import { el } from "./plot.js";

export function drawDistortion(svg, timeline, pos) {
  svg.replaceChildren();
  const width = svg.clientWidth || 300;
  const height = svg.clientHeight || 130;
  const m = { left: 48, right: 8, top: 8, bottom: 22 };
  const pts = timeline.map((e, i) => [i, e.J]).filter(([, J]) => J != null);
  el("text", { x: m.left, y: height - 4, class: "axis-label" }, svg).textContent = "half-step";
  if (!pts.length) {
    el("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, svg)
      .textContent = "J appears after the first Assign";
    return;
  }
  const n = Math.max(timeline.length - 1, 1);
  const Js = pts.map(([, J]) => J);
  const lo = Math.min(...Js), hi = Math.max(...Js);
  const pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
  const x = (i) => m.left + (i / n) * (width - m.left - m.right);
  const y = (J) => m.top + ((hi + pad - J) / (hi - lo + 2 * pad)) * (height - m.top - m.bottom);
  el("line", { x1: m.left, x2: m.left, y1: m.top, y2: height - m.bottom, class: "axis" }, svg);
  el("line", { x1: m.left, x2: width - m.right, y1: height - m.bottom, y2: height - m.bottom, class: "axis" }, svg);
  for (const J of [lo, hi]) {
    el("text", { x: m.left - 4, y: y(J), "text-anchor": "end", dy: "0.35em", class: "tick" }, svg)
      .textContent = J.toPrecision(4);
  }
  // Segments break where a centroid was dragged or placed: J is compared only within a run.
  let path = "";
  timeline.forEach((e, i) => {
    if (e.J == null) return;
    const prev = timeline[i - 1];
    path += `${prev && prev.J != null ? "L" : "M"}${x(i)},${y(e.J)}`;
  });
  el("path", { d: path, class: "j-line" }, svg);
  timeline.forEach((e, i) => {
    if (e.J == null) return;
    const shape = e.kind === "assign" ? "circle" : "rect";
    const attrs = shape === "circle" ? { cx: x(i), cy: y(e.J), r: 3.5 }
      : { x: x(i) - 3.5, y: y(e.J) - 3.5, width: 7, height: 7 };
    el(shape, { ...attrs, class: `j-${e.kind}${i === pos ? " current" : ""}` }, svg);
  });
  el("line", { x1: x(pos), x2: x(pos), y1: m.top, y2: height - m.bottom, class: "cursor" }, svg);
}
