// Compress an image: lloyd.quantize on the server (as `lloyd compress` runs it), shown as a
// draggable before/after split with zoom, the palette with pixel counts and a colour cloud.
import { api, clientId, runJob, status } from "./api.js";
import { rgbCss } from "./colors.js";
import { ColorCloud } from "./cloud.js";

const $ = (id) => document.getElementById(id);

function fmtBytes(n) {
  return n == null ? "—" : n.toLocaleString("en-US");
}

export class CompressView {
  constructor(samples) {
    this.samples = samples;
    this.image = null; // {id, width, height, bytes, name}
    this.job = null;
    this.split = 0.5;
    this.zoom = 1;
    this.pan = [0, 0];
    this.cloud = new ColorCloud($("cloud"));
    this.bind();
  }

  bind() {
    const select = $("sample-image");
    select.add(new Option("Choose a sample photo…", ""));
    for (const s of this.samples) select.add(new Option(s.title, s.name));
    select.addEventListener("change", () => select.value && this.useSample(select.value));
    $("image-file").addEventListener("change", (e) => e.target.files[0] && this.upload(e.target.files[0]));
    const drop = $("drop");
    for (const kind of ["dragenter", "dragover"]) drop.addEventListener(kind, (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer.files[0]) this.upload(e.dataTransfer.files[0]);
    });
    $("dither").addEventListener("input", () => {
      const v = Number($("dither").value);
      $("dither-out").textContent = v ? v.toFixed(2) : "off";
    });
    $("compress-go").addEventListener("click", () => this.compress());
    $("compress-cancel").addEventListener("click", () => this.cancel());
    $("zoom").addEventListener("input", () => { this.zoom = Number($("zoom").value); this.layout(); });
    this.bindSplit();
  }

  bindSplit() {
    const box = $("split");
    let mode = null, last = null;
    box.addEventListener("pointerdown", (e) => {
      const onBar = e.target.id === "split-bar" || this.zoom === 1;
      mode = onBar ? "split" : "pan";
      last = [e.clientX, e.clientY];
      box.setPointerCapture(e.pointerId);
      if (mode === "split") this.setSplit(e);
    });
    box.addEventListener("pointermove", (e) => {
      if (mode === "split") this.setSplit(e);
      else if (mode === "pan") {
        this.pan = [this.pan[0] + e.clientX - last[0], this.pan[1] + e.clientY - last[1]];
        last = [e.clientX, e.clientY];
        this.layout();
      }
    });
    box.addEventListener("pointerup", () => { mode = null; });
    box.addEventListener("keydown", (e) => {
      if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
        this.split = Math.max(0, Math.min(1, this.split + (e.key === "ArrowLeft" ? -0.05 : 0.05)));
        this.layout();
        e.stopPropagation();
        e.preventDefault();
      }
    });
  }

  setSplit(e) {
    const inner = document.querySelector(".split-inner").getBoundingClientRect();
    this.split = Math.max(0, Math.min(1, (e.clientX - inner.left) / inner.width));
    this.layout();
  }

  layout() {
    const box = $("split").getBoundingClientRect();
    const inner = document.querySelector(".split-inner");
    if (!this.image) return;
    const fit = Math.min(box.width / this.image.width, box.height / this.image.height);
    const w = this.image.width * fit, h = this.image.height * fit;
    inner.style.width = `${w}px`;
    inner.style.height = `${h}px`;
    inner.style.left = `${(box.width - w) / 2}px`;
    inner.style.top = `${(box.height - h) / 2}px`;
    inner.style.transform = `translate(${this.pan[0]}px, ${this.pan[1]}px) scale(${this.zoom})`;
    $("split-left").style.width = `${this.split * 100}%`;
    $("img-original").style.width = `${w}px`;
    const bar = $("split-bar");
    bar.style.left = `${this.split * 100}%`;
    // The bar keeps its on-screen width whatever the zoom.
    bar.style.width = `${4 / this.zoom}px`;
    bar.style.marginLeft = `${-2 / this.zoom}px`;
  }

  async useSample(name) {
    try {
      const info = await api.post("/api/sample-image", { name });
      this.setImage({ ...info, name: `${name}.${info.format === "JPEG" ? "jpg" : "png"}` });
    } catch (e) {
      status(e.message, "error");
    }
  }

  async upload(file) {
    try {
      status(`Uploading ${file.name}…`);
      const info = await api.upload("/api/image", file);
      $("sample-image").value = "";
      this.setImage({ ...info, name: file.name });
    } catch (e) {
      status(`Cannot use ${file.name}: ${e.message}`, "error");
    } finally {
      $("image-file").value = "";
    }
  }

  setImage(info) {
    this.image = info;
    $("image-info").textContent = `${info.name}: ${info.width}×${info.height}, ${info.format}, ${fmtBytes(info.bytes)} bytes${info.frames > 1 ? ` (first of ${info.frames} frames)` : ""}`;
    this.pan = [0, 0];
    this.compress();
  }

  options() {
    return { n_colors: Number($("n-colors").value), color_space: $("space").value,
      dither: Number($("dither").value), random_state: 0 };
  }

  async cancel() {
    if (this.job) await this.job.cancel();
  }

  async compress() {
    if (!this.image) {
      status("Choose a sample photo or drop one of yours first.", "error");
      return;
    }
    if (this.job) {
      await this.job.cancel();
      await this.job.promise.catch(() => {});
    }
    const options = this.options();
    const progress = $("compress-progress");
    progress.hidden = false;
    progress.value = 0;
    $("compress-cancel").disabled = false;
    $("compress-go").disabled = true;
    const job = runJob({ kind: "compress", image: this.image.id, ...options }, (s) => {
      progress.value = s.progress;
      $("compress-stage").textContent = `${s.stage}…`;
    });
    this.job = job;
    try {
      const done = await job.promise;
      this.show(job.id, done, options);
      $("compress-stage").textContent = `done in ${done.seconds.toFixed(2)} s (server time)`;
    } catch (e) {
      $("compress-stage").textContent = e.status === 499 ? "cancelled" : "";
      if (e.status !== 499) status(e.message, "error");
    } finally {
      if (this.job === job) {
        this.job = null;
        progress.hidden = true;
        $("compress-cancel").disabled = true;
        $("compress-go").disabled = false;
      }
    }
  }

  show(jobId, done, options) {
    const r = done.result;
    const base = `/api/jobs/${jobId}`;
    const who = `?client=${clientId}`;
    $("img-original").src = `${base}/original.png${who}`;
    $("img-compressed").src = `${base}/compressed.png${who}`;
    const link = $("download");
    link.href = `${base}/compressed.png${who}`;
    const stem = this.image.name.replace(/\.[^.]*$/, "");
    link.download = `${stem}-k${options.n_colors}.png`;
    link.hidden = false;
    const rep = r.report;
    const rows = [
      ["colours used", rep.n_colors],
      ["PSNR", rep.psnr == null ? "lossless" : `${rep.psnr.toFixed(2)} dB`],
      ["ΔE2000 (mean)", rep.delta_e.toFixed(2)],
      ["bits per pixel", rep.bits_per_pixel.toFixed(3)],
      ["bytes before", fmtBytes(rep.input_bytes)],
      ["bytes after", fmtBytes(rep.output_bytes)],
      ["ratio", rep.ratio == null ? "—" : `${rep.ratio.toFixed(1)}×`],
    ];
    const table = $("compress-report");
    table.replaceChildren(...rows.map(([k, v]) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.textContent = k;
      const td = document.createElement("td");
      td.textContent = v;
      td.dataset.key = k;
      tr.append(th, td);
      return tr;
    }));
    const dither = options.dither ? ` --dither=${options.dither}` : "";
    $("compress-cli").hidden = false;
    $("compress-cli").textContent = `lloyd compress ${this.image.name} -k ${options.n_colors} --space ${options.color_space}${dither} --random-state 0`;
    this.showPalette(r.palette, r.counts);
    this.cloud.setData(r.cloud.colors, r.cloud.entries.map((k) => r.palette[k]));
    status(`${this.image.name}: ${rep.n_colors} colours, ${fmtBytes(rep.output_bytes)} bytes.`);
    for (const note of r.notes) status(note);
    requestAnimationFrame(() => this.layout());
  }

  showPalette(palette, counts) {
    const total = counts.reduce((a, b) => a + b, 0);
    $("palette").replaceChildren(...palette.map((c, k) => {
      const item = document.createElement("div");
      item.className = "entry";
      item.dataset.count = counts[k];
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = rgbCss(c);
      const hex = `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
      const text = document.createElement("span");
      text.textContent = `${hex}  ${counts[k].toLocaleString("en-US")} px (${(100 * counts[k] / total).toFixed(1)} %)`;
      item.title = `entry ${k}: ${hex}, ${counts[k]} pixels`;
      item.append(sw, text);
      return item;
    }));
  }

  onKey() {
    return false;
  }
}
