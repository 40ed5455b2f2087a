// Choose K: lloyd.KMeans fitted for every K on the step-through's current data, drawn as the
// elbow (inertia) and the mean silhouette; clicking a K loads it into the step-through.
import { runJob, status } from "./api.js";
import { el, niceTicks } from "./plot.js";

const $ = (id) => document.getElementById(id);

export class ChooseKView {
  constructor(onPick) {
    this.onPick = onPick;
    this.data = null;
    this.job = null;
    this.rows = null;
    $("elbow-go").addEventListener("click", () => this.compute());
    $("elbow-cancel").addEventListener("click", () => this.job && this.job.cancel());
    document.addEventListener("lloyd-data", (e) => this.setData(e.detail));
    new ResizeObserver(() => this.draw()).observe($("elbow-chart"));
  }

  setData(data) {
    this.data = data;
    this.rows = null;
    $("choosek-data").textContent = `Data: ${data.title} (${data.X.length} rows).`;
    this.draw();
  }

  async compute() {
    if (!this.data) return;
    if (this.job) {
      await this.job.cancel();
      await this.job.promise.catch(() => {});
    }
    const kMax = Math.min(Number($("k-max").value), this.data.X.length);
    const progress = $("elbow-progress");
    progress.hidden = false;
    $("elbow-cancel").disabled = false;
    const job = runJob({ kind: "elbow", data: this.data.spec, k_max: kMax, random_state: Number($("seed").value) },
      (s) => { progress.value = s.progress; $("elbow-stage").textContent = `${s.stage}…`; });
    this.job = job;
    try {
      const done = await job.promise;
      this.rows = done.result.rows;
      $("elbow-stage").textContent = `done in ${done.seconds.toFixed(2)} s (server time); silhouette on ${done.result.silhouette_sample} rows`;
      this.draw();
    } catch (e) {
      $("elbow-stage").textContent = e.status === 499 ? "cancelled" : "";
      if (e.status !== 499) status(e.message, "error");
    } finally {
      if (this.job === job) {
        this.job = null;
        progress.hidden = true;
        $("elbow-cancel").disabled = true;
      }
    }
  }

  draw() {
    this.chart($("elbow-chart"), "inertia (sum of squared distances)", "inertia",
      "Elbow: inertia falls with K; look for the bend");
    this.chart($("silhouette-chart"), "mean silhouette (higher is better)", "silhouette",
      "Silhouette: how well each point sits in its own cluster");
  }

  chart(svg, ylabel, key, title) {
    svg.replaceChildren();
    const width = svg.clientWidth || 400, height = svg.clientHeight || 300;
    const m = { left: 70, right: 24, top: 30, bottom: 42 };
    el("text", { x: m.left, y: 18, class: "chart-title" }, svg).textContent = title;
    const rows = (this.rows || []).filter((r) => r[key] != null);
    if (!rows.length) {
      el("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, svg)
        .textContent = this.rows ? "needs K >= 2" : "Press Compute";
      return;
    }
    const ks = this.rows.map((r) => r.k);
    const k0 = Math.min(...ks), k1 = Math.max(...ks);
    const vals = rows.map((r) => r[key]);
    let lo = Math.min(...vals), hi = Math.max(...vals);
    if (key === "inertia") lo = 0;
    const pad = (hi - lo) * 0.08 || 1;
    hi += pad;
    if (key !== "inertia") lo -= pad;
    const x = (k) => m.left + ((k - k0) / Math.max(1, k1 - k0)) * (width - m.left - m.right);
    const y = (v) => m.top + ((hi - v) / (hi - lo)) * (height - m.top - m.bottom);
    el("line", { x1: m.left, x2: m.left, y1: m.top, y2: height - m.bottom, class: "axis" }, svg);
    el("line", { x1: m.left, x2: width - m.right, y1: height - m.bottom, y2: height - m.bottom, class: "axis" }, svg);
    for (const k of ks) {
      el("text", { x: x(k), y: height - m.bottom + 16, "text-anchor": "middle", class: "tick" }, svg).textContent = k;
    }
    for (const t of niceTicks(lo, hi, 5)) {
      el("text", { x: m.left - 6, y: y(t), "text-anchor": "end", dy: "0.35em", class: "tick" }, svg)
        .textContent = Math.abs(t) >= 1e4 ? t.toExponential(1) : String(t);
      el("line", { x1: m.left, x2: width - m.right, y1: y(t), y2: y(t), class: "grid" }, svg);
    }
    el("text", { x: (m.left + width - m.right) / 2, y: height - 6, "text-anchor": "middle", class: "axis-label" }, svg).textContent = "K";
    el("text", { transform: `translate(16,${(m.top + height - m.bottom) / 2}) rotate(-90)`, "text-anchor": "middle", class: "axis-label" }, svg).textContent = ylabel;
    el("path", { d: rows.map((r, i) => `${i ? "L" : "M"}${x(r.k)},${y(r[key])}`).join(""), class: "k-line" }, svg);
    for (const r of rows) {
      const dot = el("circle", { cx: x(r.k), cy: y(r[key]), r: 7, class: "k-dot", tabindex: 0,
        "data-k": r.k, "data-value": r[key], role: "button" }, svg);
      const tip = el("title", {}, dot);
      tip.textContent = `K = ${r.k}: inertia ${r.inertia.toPrecision(6)}, J ${r.distortion.toPrecision(6)}${r.silhouette == null ? "" : `, silhouette ${r.silhouette.toFixed(3)}`}. Click to load K = ${r.k} into the step-through.`;
      dot.addEventListener("click", () => this.onPick(r.k));
      dot.addEventListener("keydown", (e) => { if (e.key === "Enter") this.onPick(r.k); });
    }
  }

  onKey() {
    return false;
  }
}
