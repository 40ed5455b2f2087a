// Cluster colours: Okabe & Ito's seven colours (black kept for last: it outlines centroids),
// then Paul Tol's wine and indigo, then black. Under simulated protanopia, deuteranopia and
// tritanopia (Machado et al. 2009, full severity) every pair stays >= 10.9 CIEDE2000 apart
// (tests/test_explore_server.py checks it). Every cluster also carries its number, so colour
// is never the only cue.
export const CLUSTER_COLORS = [
  "#E69F00", // orange
  "#56B4E9", // sky blue
  "#009E73", // bluish green
  "#F0E442", // yellow
  "#0072B2", // blue
  "#D55E00", // vermillion
  "#CC79A7", // reddish purple
  "#882255", // Tol's wine
  "#332288", // Tol's indigo
  "#000000", // black
];

export const UNASSIGNED = "#7f7f7f";

export function clusterColor(k) {
  return k == null || k < 0 ? UNASSIGNED : CLUSTER_COLORS[k % CLUSTER_COLORS.length];
}

// Text on top of a colour: black on light fills, white on dark ones (WCAG relative luminance).
export function inkOn(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const lin = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return luminance > 0.2 ? "#000000" : "#ffffff";
}

// Colour every `.swatch[data-k]` under `root` (the page's CSP allows no inline style markup).
export function paintSwatches(root) {
  for (const swatch of root.querySelectorAll(".swatch[data-k]")) {
    swatch.style.background = clusterColor(Number(swatch.dataset.k));
  }
}

export function rgbCss([r, g, b]) {
  return `rgb(${r}, ${g}, ${b})`;
}
