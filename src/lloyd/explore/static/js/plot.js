// The step-through's drawing: points and Voronoi cells on a canvas (thousands of points stay
// fast), centroids, their paths and the axes in SVG on top (crisp, draggable, testable).
import { clusterColor, inkOn } from "./colors.js";
import { voronoiCells } from "./voronoi.js";

const SVG = "http://www.w3.org/2000/svg";
const MARGIN = { left: 46, right: 12, top: 10, bottom: 32 };

// One SVG element with its attributes, appended to ``parent`` when given (every chart uses it).
export function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export function niceTicks(lo, hi, count = 6) {
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toFixed(10));
  return ticks;
}

export class Plot {
  constructor(container, handlers) {
    this.container = container;
    this.handlers = handlers; // {hover(row|null), place(x, y), drag(i, x, y, done)}
    this.canvas = document.createElement("canvas");
    this.svg = el("svg", { class: "overlay", "data-testid": "plot" });
    container.append(this.canvas, this.svg);
    this.X = [];
    this.state = { labels: null, centroids: [], paths: [], probabilities: null, seeds: [] };
    this.placing = false;
    this.dragging = null;
    this.hovered = null;
    new ResizeObserver(() => this.resize()).observe(container);
    this.svg.addEventListener("pointermove", (e) => this.onMove(e));
    this.svg.addEventListener("pointerleave", () => this.setHover(null));
    this.svg.addEventListener("pointerup", (e) => this.onUp(e));
    this.svg.addEventListener("click", (e) => this.onClick(e));
  }

  setData(X) {
    this.X = X;
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (const [x, y] of X) {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x);
      y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const padX = (x1 - x0) * 0.06 || 1;
    const padY = (y1 - y0) * 0.06 || 1;
    this.domain = [x0 - padX, x1 + padX, y0 - padY, y1 + padY];
    this.resize();
  }

  // Data units of the last decimal worth keeping for a clicked position (1/1000 of the view).
  get clickDecimals() {
    const span = Math.max(this.domain[1] - this.domain[0], this.domain[3] - this.domain[2]);
    return Math.max(0, Math.ceil(-Math.log10(span / 1000)));
  }

  resize() {
    const { width, height } = this.container.getBoundingClientRect();
    if (!width || !height || !this.domain) return;
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.svg.setAttribute("width", width);
    this.svg.setAttribute("height", height);
    this.box = { left: MARGIN.left, top: MARGIN.top, width: width - MARGIN.left - MARGIN.right,
      height: height - MARGIN.top - MARGIN.bottom };
    // Equal units on both axes: distances (and Voronoi borders) must look as they are.
    const [x0, x1, y0, y1] = this.domain;
    const scale = Math.min(this.box.width / (x1 - x0), this.box.height / (y1 - y0));
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const hw = this.box.width / scale / 2, hh = this.box.height / scale / 2;
    this.view = [cx - hw, cx + hw, cy - hh, cy + hh];
    this.scale = scale;
    this.svg.dataset.view = this.view.join(",");
    this.svg.dataset.box = [this.box.left, this.box.top, this.box.width, this.box.height].join(",");
    this.draw();
  }

  px(x) { return this.box.left + (x - this.view[0]) * this.scale; }
  py(y) { return this.box.top + (this.view[3] - y) * this.scale; }
  dataX(px) { return this.view[0] + (px - this.box.left) / this.scale; }
  dataY(py) { return this.view[3] - (py - this.box.top) / this.scale; }

  update(state) {
    Object.assign(this.state, state);
    this.draw();
  }

  draw() {
    if (!this.box) return;
    const ctx = this.canvas.getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const { labels, centroids, probabilities } = this.state;
    ctx.save();
    ctx.beginPath();
    ctx.rect(this.box.left, this.box.top, this.box.width, this.box.height);
    ctx.clip();
    if (centroids.length && !probabilities) this.drawCells(ctx, centroids);
    if (probabilities) this.drawProbabilities(ctx, probabilities);
    else this.drawPoints(ctx, labels);
    ctx.restore();
    this.drawOverlay();
  }

  drawCells(ctx, centroids) {
    const cells = voronoiCells(centroids, this.view);
    cells.forEach((cell, k) => {
      if (cell.length < 3) return;
      ctx.beginPath();
      cell.forEach(([x, y], i) => (i ? ctx.lineTo(this.px(x), this.py(y)) : ctx.moveTo(this.px(x), this.py(y))));
      ctx.closePath();
      ctx.globalAlpha = 0.16;
      ctx.fillStyle = clusterColor(k);
      ctx.fill();
      ctx.globalAlpha = 0.8;
      ctx.strokeStyle = "#5a5a5a";
      ctx.setLineDash([5, 4]);
      ctx.lineWidth = 1;
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
    });
  }

  drawPoints(ctx, labels) {
    const r = this.X.length > 3000 ? 2 : 3.6;
    ctx.lineWidth = 0.8;
    ctx.strokeStyle = "rgba(0,0,0,0.55)";
    this.X.forEach(([x, y], i) => {
      ctx.beginPath();
      ctx.arc(this.px(x), this.py(y), r, 0, 2 * Math.PI);
      ctx.fillStyle = clusterColor(labels ? labels[i] : null);
      ctx.fill();
      if (this.X.length <= 3000) ctx.stroke();
    });
  }

  drawProbabilities(ctx, p) {
    // Area proportional to the probability of being the next seed.
    let pmax = 0;
    for (const v of p) pmax = Math.max(pmax, v);
    this.X.forEach(([x, y], i) => {
      const r = 1.2 + 9 * Math.sqrt(p[i] / (pmax || 1));
      ctx.beginPath();
      ctx.arc(this.px(x), this.py(y), r, 0, 2 * Math.PI);
      ctx.fillStyle = "rgba(0, 114, 178, 0.55)";
      ctx.fill();
      ctx.strokeStyle = "rgba(0, 40, 80, 0.8)";
      ctx.lineWidth = 0.6;
      ctx.stroke();
    });
  }

  drawOverlay() {
    const svg = this.svg;
    svg.replaceChildren();
    this.drawAxes();
    const { centroids, paths, seeds } = this.state;
    paths.forEach((path, k) => {
      if (path.length < 2) return;
      const pts = path.map(([x, y]) => `${this.px(x)},${this.py(y)}`).join(" ");
      el("polyline", { points: pts, class: "path" }, svg);
      path.slice(0, -1).forEach(([x, y]) => el("circle", { cx: this.px(x), cy: this.py(y), r: 3.2,
        fill: clusterColor(k), class: "path-dot" }, svg));
    });
    for (const row of seeds || []) {
      const [x, y] = this.X[row];
      el("path", { d: `M${this.px(x) - 6},${this.py(y) - 6}l12,12m0,-12l-12,12`, class: "seed-cross" }, svg);
    }
    centroids.forEach(([x, y], k) => {
      const g = el("g", { class: "centroid", "data-index": k, "data-x": x, "data-y": y,
        transform: `translate(${this.px(x)},${this.py(y)})` }, svg);
      el("circle", { r: 11, fill: clusterColor(k) }, g);
      const label = el("text", { "text-anchor": "middle", dy: "0.35em", fill: inkOn(clusterColor(k)) }, g);
      label.textContent = String(k + 1);
      const title = el("title", {}, g);
      title.textContent = `centroid ${k + 1}: (${x.toPrecision(6)}, ${y.toPrecision(6)}) — drag to move`;
      g.addEventListener("pointerdown", (e) => this.startDrag(e, k));
    });
    if (this.hovered != null && this.X[this.hovered]) {
      const [x, y] = this.X[this.hovered];
      el("circle", { cx: this.px(x), cy: this.py(y), r: 7, class: "hover-ring" }, svg);
      centroids.forEach(([cx, cy], k) => el("line", { x1: this.px(x), y1: this.py(y), x2: this.px(cx),
        y2: this.py(cy), class: k === this.state.hoverWinner ? "hover-line win" : "hover-line" }, svg));
    }
  }

  drawAxes() {
    const g = el("g", { class: "axes" }, this.svg);
    const { left, top, width, height } = this.box;
    el("rect", { x: left, y: top, width, height, class: "frame" }, g);
    for (const t of niceTicks(this.view[0], this.view[1], Math.max(3, Math.round(width / 80)))) {
      const x = this.px(t);
      el("line", { x1: x, x2: x, y1: top + height, y2: top + height + 5 }, g);
      el("text", { x, y: top + height + 18, "text-anchor": "middle" }, g).textContent = String(t);
    }
    for (const t of niceTicks(this.view[2], this.view[3], Math.max(3, Math.round(height / 70)))) {
      const y = this.py(t);
      el("line", { x1: left - 5, x2: left, y1: y, y2: y }, g);
      el("text", { x: left - 8, y, "text-anchor": "end", dy: "0.35em" }, g).textContent = String(t);
    }
  }

  nearestRow(px, py) {
    let best = null, bestD = 100; // within 10 px
    this.X.forEach(([x, y], i) => {
      const d = (this.px(x) - px) ** 2 + (this.py(y) - py) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    });
    return best;
  }

  local(e) {
    const r = this.svg.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  onMove(e) {
    const [px, py] = this.local(e);
    if (this.dragging != null) {
      this.dragMoved = true;
      this.handlers.drag(this.dragging, this.dataX(px), this.dataY(py), false);
      return;
    }
    this.setHover(this.nearestRow(px, py));
  }

  setHover(row) {
    if (row === this.hovered) return;
    this.hovered = row;
    this.state.hoverWinner = null;
    this.drawOverlay();
    this.handlers.hover(row);
  }

  startDrag(e, k) {
    if (this.placing || !this.handlers.canDrag()) return;
    e.preventDefault();
    e.stopPropagation();
    this.dragging = k;
    this.dragMoved = false;
    this.svg.setPointerCapture(e.pointerId);
  }

  onUp(e) {
    if (this.dragging == null) return;
    const k = this.dragging;
    this.dragging = null;
    this.suppressClick = true;
    if (this.dragMoved) {
      const [px, py] = this.local(e);
      this.handlers.drag(k, this.dataX(px), this.dataY(py), true);
    }
  }

  onClick(e) {
    if (this.suppressClick) {
      this.suppressClick = false;
      return;
    }
    if (!this.placing) return;
    const [px, py] = this.local(e);
    if (px < this.box.left || py < this.box.top || px > this.box.left + this.box.width
        || py > this.box.top + this.box.height) return;
    this.handlers.place(this.dataX(px), this.dataY(py));
  }
}
