// Voronoi cells of a few centroids, clipped to a box: each cell is the box cut by the
// half-planes nearer its centroid than each other one (exact for the handful of centroids the
// step-through allows; no library needed for K <= 10 half-plane cuts).

function clip(polygon, a, b, c) {
  // Keep the part of `polygon` where a*x + b*y <= c (Sutherland–Hodgman, one edge).
  const out = [];
  for (let i = 0; i < polygon.length; i++) {
    const p = polygon[i];
    const q = polygon[(i + 1) % polygon.length];
    const fp = a * p[0] + b * p[1] - c;
    const fq = a * q[0] + b * q[1] - c;
    if (fp <= 0) out.push(p);
    if ((fp < 0 && fq > 0) || (fp > 0 && fq < 0)) {
      const t = fp / (fp - fq);
      out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
    }
  }
  return out;
}

export function voronoiCells(centroids, [x0, x1, y0, y1]) {
  return centroids.map((ci, i) => {
    let cell = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    centroids.forEach((cj, j) => {
      if (j === i || cell.length === 0) return;
      // |x - ci|² <= |x - cj|²  <=>  2 (cj - ci)·x <= |cj|² - |ci|²
      const a = 2 * (cj[0] - ci[0]);
      const b = 2 * (cj[1] - ci[1]);
      if (a === 0 && b === 0) {
        if (j < i) cell = []; // two centroids in one place: ties go to the lower index
        return;
      }
      const c = cj[0] ** 2 + cj[1] ** 2 - ci[0] ** 2 - ci[1] ** 2;
      cell = clip(cell, a, b, c);
    });
    return cell;
  });
}
