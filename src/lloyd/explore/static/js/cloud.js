// A rotatable 3-D scatter of an image's colours in the RGB cube, each dot painted in the
// palette entry it was mapped to (so the k-means cells of colour space show as blocks).
export class ColorCloud {
  constructor(canvas) {
    this.canvas = canvas;
    this.yaw = -0.7;
    this.pitch = 0.45;
    this.colors = [];
    this.paint = [];
    let last = null;
    canvas.addEventListener("pointerdown", (e) => { last = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointermove", (e) => {
      if (!last) return;
      this.yaw += (e.clientX - last[0]) * 0.01;
      this.pitch = Math.max(-1.5, Math.min(1.5, this.pitch + (e.clientY - last[1]) * 0.01));
      last = [e.clientX, e.clientY];
      this.draw();
    });
    canvas.addEventListener("pointerup", () => { last = null; });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  setData(colors, paint) {
    this.colors = colors;
    this.paint = paint;
    this.draw();
  }

  project([r, g, b], size) {
    // Centre the cube on the origin, rotate about the vertical then the horizontal axis.
    const x0 = r / 255 - 0.5, y0 = b / 255 - 0.5, z0 = g / 255 - 0.5;
    const cy = Math.cos(this.yaw), sy = Math.sin(this.yaw);
    const x1 = cy * x0 - sy * y0, y1 = sy * x0 + cy * y0;
    const cp = Math.cos(this.pitch), sp = Math.sin(this.pitch);
    const z2 = cp * z0 - sp * y1, depth = sp * z0 + cp * y1;
    const s = size * 0.55;
    return [size / 2 + x1 * s, size / 2 - z2 * s, depth];
  }

  draw() {
    const rect = this.canvas.getBoundingClientRect();
    const size = Math.min(rect.width, rect.height);
    if (!size) return;
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = rect.width * ratio;
    this.canvas.height = rect.height * ratio;
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, (rect.width - size) / 2 * ratio, 0);
    ctx.clearRect(0, 0, size, size);
    const corners = [];
    for (const r of [0, 255]) for (const g of [0, 255]) for (const b of [0, 255]) corners.push([r, g, b]);
    ctx.strokeStyle = "#999";
    ctx.lineWidth = 1;
    corners.forEach((a, i) => corners.forEach((b, j) => {
      const diff = a.filter((v, k) => v !== b[k]).length;
      if (j > i && diff === 1) {
        const [x1, y1] = this.project(a, size), [x2, y2] = this.project(b, size);
        ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
      }
    }));
    ctx.fillStyle = "#333";
    ctx.font = "11px system-ui, sans-serif";
    for (const [label, c] of [["R", [255, 0, 0]], ["G", [0, 255, 0]], ["B", [0, 0, 255]], ["0", [0, 0, 0]]]) {
      const [x, y] = this.project(c, size);
      ctx.fillText(label, x + 4, y - 4);
    }
    const order = this.colors.map((c, i) => [this.project(c, size), i]).sort((a, b) => b[0][2] - a[0][2]);
    for (const [[x, y], i] of order) {
      const [r, g, b] = this.paint[i];
      ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
      ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
    }
  }
}
