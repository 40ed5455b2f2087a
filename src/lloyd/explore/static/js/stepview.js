// The step-through: data, a start, then Assign / Move half-steps on a timeline. Every label,
// centroid and distortion comes from the server (lloyd.steps); this module keeps the timeline.
import { api, status } from "./api.js";
import { paintSwatches } from "./colors.js";
import { drawDistortion } from "./jchart.js";
import { Plot } from "./plot.js";
import { pythonSnippet } from "./python.js";

const $ = (id) => document.getElementById(id);
const KIND_TEXT = { start: "start", assign: "assigned", move: "centroids moved", drag: "centroid dragged" };

export class StepView {
  constructor(shapes, maxK) {
    this.shapes = shapes;
    this.maxK = maxK;
    this.data = null; // {spec, X, fileName}
    this.timeline = [];
    this.pos = 0;
    this.origins = []; // origin of every timeline entry's segment
    this.kpp = null;
    this.placing = null;
    this.running = false;
    this.busy = false;
    this.plot = new Plot($("plot"), {
      hover: (row) => this.hover(row),
      place: (x, y) => this.place(x, y),
      drag: (k, x, y, done) => this.drag(k, x, y, done),
      canDrag: () => !this.running && !this.busy && !this.kpp && this.current != null,
    });
    this.bind();
  }

  bind() {
    const shape = $("shape");
    for (const s of this.shapes) shape.add(new Option(s.title, s.name));
    shape.addEventListener("change", () => this.loadShape(shape.value));
    $("csv-file").addEventListener("change", (e) => e.target.files[0] && this.uploadCsv(e.target.files[0]));
    $("col-x").addEventListener("change", () => this.loadColumns());
    $("col-y").addEventListener("change", () => this.loadColumns());
    $("k").max = this.maxK;
    $("place").addEventListener("click", () => this.startPlacing());
    $("random").addEventListener("click", () => this.seed("random"));
    $("kpp").addEventListener("click", () => this.seed("k-means++"));
    $("set-typed").addEventListener("click", () => this.setTyped());
    $("kpp-draw").addEventListener("click", () => this.kppDraw(1));
    $("kpp-all").addEventListener("click", () => this.kppDraw(Infinity));
    $("assign").addEventListener("click", () => this.act(() => this.halfStep("assign")));
    $("move").addEventListener("click", () => this.act(() => this.halfStep("move")));
    $("step").addEventListener("click", () => this.act(async () => {
      await this.halfStep(this.next());
      await this.halfStep(this.next());
    }));
    $("run").addEventListener("click", () => this.toggleRun());
    $("reset").addEventListener("click", () => this.reset());
    $("timeline").addEventListener("input", (e) => this.goto(Number(e.target.value)));
    $("copy-python").addEventListener("click", () => this.copyPython());
  }

  get current() { return this.timeline[this.pos]; }
  get K() { return Number($("k").value); }

  async loadShape(name) {
    const info = this.shapes.find((s) => s.name === name);
    $("lesson").textContent = info.lesson;
    $("k").value = info.k;
    $("csv-columns").hidden = true;
    await this.loadData({ kind: name, n: 300, seed: 0 }, info.title);
  }

  async loadData(spec, title, fileName) {
    const { X } = await api.post("/api/points", { data: spec });
    this.data = { spec, X, title, fileName };
    this.plot.setData(X);
    this.clear();
    document.dispatchEvent(new CustomEvent("lloyd-data", { detail: this.data }));
  }

  clear() {
    this.stopRun();
    this.timeline = [];
    this.origins = [];
    this.pos = 0;
    this.kpp = null;
    this.placing = null;
    $("kpp-panel").hidden = true;
    $("place-hint").hidden = true;
    this.render();
  }

  async uploadCsv(file) {
    try {
      const table = await api.upload("/api/table", file);
      this.table = { ...table, fileName: file.name };
      for (const id of ["col-x", "col-y"]) {
        const select = $(id);
        select.replaceChildren(...table.columns.map((c) => new Option(c, c)));
      }
      if (table.columns.length < 2) throw new Error(`the table has one numeric column (${table.columns[0]}); the step-through needs two`);
      $("col-y").value = table.columns[1];
      $("csv-columns").hidden = false;
      const skipped = table.skipped.length ? ` Left out (not numeric): ${table.skipped.join(", ")}.` : "";
      $("lesson").textContent = `${file.name}: ${table.rows} rows, ${table.columns.length} numeric columns.${skipped}`;
      const shape = $("shape");
      if (![...shape.options].some((o) => o.value === "upload")) shape.add(new Option("Uploaded CSV", "upload"));
      shape.value = "upload";
      await this.loadColumns();
      status(`Loaded ${file.name}: ${table.rows} rows.`);
    } catch (e) {
      status(`Cannot use ${file.name}: ${e.message}`, "error");
    } finally {
      $("csv-file").value = "";
    }
  }

  async loadColumns() {
    const columns = [$("col-x").value, $("col-y").value];
    await this.loadData({ kind: "upload", id: this.table.id, columns }, this.table.fileName,
      this.table.fileName);
  }

  // -- starting centroids --------------------------------------------------------------------
  begin(centroids, origin) {
    this.stopRun();
    this.kpp = null;
    $("kpp-panel").hidden = true;
    this.truncate();
    this.timeline.push({ kind: origin.how === "drag" ? "drag" : "start", centroids, labels: null, J: null });
    this.origins.push(origin);
    this.pos = this.timeline.length - 1;
    $("k").value = centroids.length;
    this.render();
    status("Press Assign (or Step, or space to run); drag a centroid to move it by hand.");
  }

  truncate() {
    this.timeline.length = this.pos + (this.timeline.length ? 1 : 0);
    this.origins.length = this.timeline.length;
  }

  startPlacing() {
    this.clear();
    this.placing = [];
    this.plot.placing = true;
    $("place-hint").hidden = false;
    $("place-hint").textContent = `Click on the plot to place centroid 1 of ${this.K}.`;
    this.render();
  }

  place(x, y) {
    if (!this.placing) return;
    const d = this.plot.clickDecimals;
    this.placing.push([Number(x.toFixed(d)), Number(y.toFixed(d))]);
    if (this.placing.length < this.K) {
      $("place-hint").textContent = `Click to place centroid ${this.placing.length + 1} of ${this.K}.`;
      this.plot.update({ centroids: this.placing, labels: null, paths: [], probabilities: null, seeds: [] });
      return;
    }
    const centroids = this.placing;
    this.placing = null;
    this.plot.placing = false;
    $("place-hint").hidden = true;
    this.begin(centroids, { how: "click", centroids });
  }

  setTyped() {
    let centroids;
    try {
      centroids = JSON.parse($("typed").value);
      const ok = Array.isArray(centroids) && centroids.length >= 1 && centroids.length <= this.maxK
        && centroids.every((c) => Array.isArray(c) && c.length === 2 && c.every(Number.isFinite));
      if (!ok) throw new Error();
    } catch {
      status(`Type 1 to ${this.maxK} points as [[x, y], ...], e.g. [[3, 3], [6, 2], [8, 5]].`, "error");
      return;
    }
    this.placing = null;
    this.plot.placing = false;
    this.begin(centroids, { how: "typed", centroids });
  }

  async seed(method) {
    const seed = Number($("seed").value);
    const K = this.K;
    try {
      const out = await api.post("/api/seed", { data: this.data.spec, k: K, method, random_state: seed });
      if (method === "random") {
        this.begin(out.centroids, { how: "random", seed });
        return;
      }
      this.clear();
      this.kpp = { ...out, drawn: 0, seed };
      $("kpp-panel").hidden = false;
      this.showKpp();
      status(`k-means++ (seed ${seed}): draw the ${K} seeds one at a time; hover a point for its chance.`);
    } catch (e) {
      status(e.message, "error");
    }
  }

  showKpp() {
    const { steps, drawn, centroids } = this.kpp;
    const K = centroids.length;
    const step = steps[drawn];
    $("kpp-text").textContent = drawn === 0
      ? `Seed 1 of ${K}: every point is equally likely (1/${this.data.X.length}).`
      : `Seed ${drawn + 1} of ${K}: a point is drawn with probability D²/ΣD², D its distance to the nearest seed so far (dot area ∝ probability). The most likely:`;
    const top = step.probabilities.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, drawn ? 5 : 0);
    $("kpp-top").replaceChildren(...top.map(([p, i]) => {
      const li = document.createElement("li");
      li.dataset.row = i;
      li.dataset.probability = p;
      li.textContent = `row ${i}: ${(100 * p).toFixed(2)} %`;
      return li;
    }));
    $("kpp-draw").textContent = `Draw seed ${drawn + 1}`;
    const seeds = this.kpp.indices.slice(0, drawn);
    this.plot.update({ centroids: centroids.slice(0, drawn), labels: null, paths: [],
      probabilities: step.probabilities, seeds });
    this.renderPanel();
  }

  kppDraw(count) {
    const K = this.kpp.centroids.length;
    this.kpp.drawn = Math.min(K, this.kpp.drawn + count);
    if (this.kpp.drawn === K) {
      const { centroids, seed, indices } = this.kpp;
      this.begin(centroids, { how: "k-means++", seed });
      status(`k-means++ chose rows ${indices.join(", ")} as the ${K} seeds.`);
      return;
    }
    this.showKpp();
  }

  // -- half-steps ------------------------------------------------------------------------------
  next() {
    return this.current && this.current.kind === "assign" ? "move" : "assign";
  }

  async act(work) {
    if (this.busy || !this.current) return;
    this.busy = true;
    try {
      await work();
    } catch (e) {
      status(e.message, "error");
      this.stopRun();
    } finally {
      this.busy = false;
      this.render();
    }
  }

  async halfStep(kind) {
    const cur = this.current;
    if (kind === "move" && cur.kind !== "assign") throw new Error("Assign first: the centroids move to the mean of the points assigned to them.");
    const spec = this.data.spec;
    let entry;
    if (kind === "assign") {
      const out = await api.post("/api/assign", { data: spec, centroids: cur.centroids });
      entry = { kind, centroids: cur.centroids, labels: out.labels, J: out.distortion, sizes: out.sizes };
    } else {
      const out = await api.post("/api/move", { data: spec, centroids: cur.centroids, labels: cur.labels });
      entry = { kind, centroids: out.centroids, labels: cur.labels, J: out.distortion, sizes: cur.sizes, empty: out.empty };
      if (out.empty.length) status(`Centroid(s) ${out.empty.map((k) => k + 1).join(", ")} have no points and stay where they are.`);
    }
    if (!entry.empty || !entry.empty.length) {
      status(kind === "assign" ? `Assigned every point to its closest centroid: J = ${entry.J.toPrecision(6)}.`
        : `Moved every centroid to the mean of its points: J = ${entry.J.toPrecision(6)}.`);
    }
    const origin = this.origins[this.pos];
    this.truncate();
    this.timeline.push(entry);
    this.origins.push(origin);
    this.pos = this.timeline.length - 1;
    this.render();
    return entry;
  }

  converged() {
    // Labels unchanged by an assignment: the next move would leave every centroid in place.
    const cur = this.current;
    if (!cur || cur.kind !== "assign") return false;
    const prev = this.timeline.slice(0, this.pos).reverse().find((e) => e.kind === "assign");
    return prev && this.origins[this.timeline.indexOf(prev)] === this.origins[this.pos]
      && prev.labels.every((l, i) => l === cur.labels[i]);
  }

  toggleRun() {
    if (this.running) this.stopRun();
    else this.run();
  }

  async run() {
    if (!this.current || this.running) return;
    this.running = true;
    this.render();
    try {
      for (let i = 0; i < 600 && this.running; i++) {
        if (this.converged()) {
          status(`Converged: an assignment changed no label (J = ${this.current.J.toPrecision(6)}).`);
          break;
        }
        await this.act(() => this.halfStep(this.next()));
        await new Promise((r) => setTimeout(r, 220));
      }
    } finally {
      this.running = false;
      this.render();
    }
  }

  stopRun() {
    this.running = false;
  }

  reset() {
    this.stopRun();
    if (!this.timeline.length) return;
    // Back to the start of the current segment (the last placement or drag).
    const origin = this.origins[this.pos];
    this.pos = this.origins.indexOf(origin);
    this.truncate();
    this.render();
  }

  goto(pos) {
    if (!this.timeline.length) return;
    this.stopRun();
    this.pos = Math.max(0, Math.min(this.timeline.length - 1, pos));
    this.render();
  }

  drag(k, x, y, done) {
    const cur = this.current;
    const d = this.plot.clickDecimals;
    const centroids = cur.centroids.map((c, i) => (i === k ? [Number(x.toFixed(d)), Number(y.toFixed(d))] : c));
    if (!done) {
      this.plot.update({ centroids, labels: cur.labels });
      return;
    }
    this.begin(centroids, { how: "drag", centroids });
    status(`Centroid ${k + 1} moved by hand: press Assign to recolour the points.`);
  }

  async hover(row) {
    const info = $("hover-info");
    if (row == null) return;
    const cur = this.kpp ? null : this.current;
    const centroids = this.kpp ? this.kpp.centroids.slice(0, this.kpp.drawn) : cur ? cur.centroids : [];
    const [x, y] = this.data.X[row];
    info.dataset.row = row;
    let html = `row ${row} at (${x.toPrecision(5)}, ${y.toPrecision(5)})`;
    if (this.kpp) {
      const p = this.kpp.steps[this.kpp.drawn].probabilities[row];
      info.dataset.probability = p;
      html += `<br>P(next seed) = <b data-testid="probability">${p.toPrecision(6)}</b>`;
    } else {
      delete info.dataset.probability;
    }
    if (!centroids.length) {
      info.innerHTML = html;
      return;
    }
    const out = await api.post("/api/point", { data: this.data.spec, row, centroids });
    if (this.plot.hovered !== row) return;
    this.plot.state.hoverWinner = out.closest;
    this.plot.drawOverlay();
    const rows = out.distances.map((d, k) => `<tr class="${k === out.closest ? "win" : ""}"><td><span class="swatch" data-k="${k}"></span>${k + 1}</td><td>${d.toPrecision(5)}</td><td>${out.squared[k].toPrecision(5)}</td><td>${k === out.closest ? "◀ closest" : ""}</td></tr>`);
    info.innerHTML = `${html}<table><tr><th>centroid</th><th>distance</th><th>squared</th><th></th></tr>${rows.join("")}</table>`;
    paintSwatches(info);
  }

  copyPython() {
    if (!this.current) {
      status("Choose starting centroids first.", "error");
      return;
    }
    const origin = this.origins[this.pos];
    const start = this.origins.indexOf(origin);
    const code = pythonSnippet(this.data, origin, this.current.centroids.length, this.pos - start);
    const pre = $("python");
    pre.hidden = false;
    pre.textContent = code;
    navigator.clipboard.writeText(code).then(() => status("Copied the Python to the clipboard."),
      () => status("The Python is below (the browser refused the clipboard)."));
  }

  // -- drawing -----------------------------------------------------------------------------------
  paths() {
    // Each centroid's positions over the moves of the current segment, up to now.
    const origin = this.origins[this.pos];
    const entries = this.timeline.slice(0, this.pos + 1).filter((e, i) => this.origins[i] === origin
      && e.kind !== "assign");
    return this.current.centroids.map((_, k) => entries.map((e) => e.centroids[k]));
  }

  render() {
    const cur = this.current;
    if (!this.kpp && !this.placing) {
      this.plot.update({ centroids: cur ? cur.centroids : [], labels: cur ? cur.labels : null,
        paths: cur ? this.paths() : [], probabilities: null, seeds: [] });
    }
    const tl = $("timeline");
    tl.max = Math.max(0, this.timeline.length - 1);
    tl.value = this.pos;
    tl.disabled = this.timeline.length < 2;
    $("timeline-label").textContent = cur ? `${this.pos} / ${this.timeline.length - 1}: ${KIND_TEXT[cur.kind]}` : "";
    const idle = !this.busy && !this.running && !this.kpp && !this.placing;
    $("assign").disabled = !cur || !idle || cur.kind === "assign";
    $("move").disabled = !cur || !idle || cur.kind !== "assign";
    $("step").disabled = !cur || !idle;
    $("reset").disabled = !cur || this.busy;
    $("run").disabled = !cur || !!this.kpp;
    $("run").textContent = this.running ? "Pause ❚❚" : "Run ▶";
    this.renderPanel();
  }

  renderPanel() {
    const cur = this.kpp ? null : this.current;
    const out = $("distortion");
    out.textContent = cur && cur.J != null ? cur.J.toPrecision(6) : "—";
    out.dataset.value = cur && cur.J != null ? String(cur.J) : "";
    const list = $("distortion-list");
    list.replaceChildren(...this.timeline.map((e, i) => {
      const li = document.createElement("li");
      li.dataset.kind = e.kind;
      li.dataset.value = e.J == null ? "" : String(e.J);
      li.textContent = `${KIND_TEXT[e.kind]}: ${e.J == null ? "—" : e.J}`;
      if (i === this.pos) li.className = "current";
      return li;
    }));
    drawDistortion($("j-chart"), this.kpp ? [] : this.timeline, this.pos);
    const body = $("centroid-table").tBodies[0];
    const centroids = this.kpp ? this.kpp.centroids.slice(0, this.kpp.drawn) : cur ? cur.centroids : this.placing || [];
    body.replaceChildren(...centroids.map(([x, y], k) => {
      const tr = document.createElement("tr");
      tr.dataset.x = x;
      tr.dataset.y = y;
      const size = cur && cur.sizes ? cur.sizes[k] : "";
      tr.innerHTML = `<td><span class="swatch" data-k="${k}"></span>${k + 1}</td><td>${x.toPrecision(5)}</td><td>${y.toPrecision(5)}</td><td>${size}</td>`;
      return tr;
    }));
    paintSwatches(body);
  }

  onKey(e) {
    if (e.key === "ArrowRight") this.goto(this.pos + 1);
    else if (e.key === "ArrowLeft") this.goto(this.pos - 1);
    else if (e.key === " ") this.toggleRun();
    else return false;
    return true;
  }
}
