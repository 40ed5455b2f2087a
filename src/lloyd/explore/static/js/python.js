// "Copy as Python": the lloyd calls that rebuild the step-through's current state exactly.
// Floats are written with JavaScript's shortest round-trip form, which Python reads back to
// the same double, so the printed distortion matches the page to the last digit.

function num(v) {
  const s = String(v);
  return /[.eE]/.test(s) || !Number.isFinite(v) ? s : `${s}.0`;
}

function matrix(rows) {
  return `np.array([${rows.map((r) => `[${r.map(num).join(", ")}]`).join(", ")}])`;
}

function dataLines(data) {
  const { spec } = data;
  if (spec.kind === "sample") {
    return ["from lloyd import load_sample_2d", "",
      `X, _ = load_sample_2d(${spec.n}, random_state=${spec.seed})`];
  }
  if (spec.kind === "upload") {
    const cols = spec.columns.map((c) => `table.columns[${JSON.stringify(c)}]`).join(", ");
    return ["from lloyd.explore import read_csv_columns", "",
      `with open(${JSON.stringify(data.fileName || "data.csv")}, "rb") as f:`,
      "    table = read_csv_columns(f.read())",
      `X = np.column_stack([${cols}])`];
  }
  return ["from lloyd.explore import load_shape", "",
    `X = load_shape(${JSON.stringify(spec.kind)}, ${spec.n}, random_state=${spec.seed})`];
}

function originLines(origin, K) {
  if (origin.how === "random") {
    return [`initial_centroids = kmeans_init_centroids(X, ${K}, random_state=${origin.seed})`];
  }
  if (origin.how === "k-means++") {
    return ["# k-means++ with one candidate a draw: each seed drawn with probability D²/ΣD²",
      `initial_centroids, _ = lloyd.kmeans_plusplus(X, ${K}, random_state=${origin.seed}, n_local_trials=1)`];
  }
  const why = origin.how === "drag" ? "where you dragged them" : "where you placed them";
  return [`initial_centroids = ${matrix(origin.centroids)}  # ${why}`];
}

// `steps` half-steps after the segment's start: 2t+1 is "assigned t times after t moves",
// 2t+2 adds one more move.
export function pythonSnippet(data, origin, K, steps) {
  const lines = ["import numpy as np", "import lloyd",
    "from lloyd import compute_centroids, compute_distortion, kmeans_init_centroids, run_kmeans"];
  const d = dataLines(data);
  lines.push(...d);
  lines.push(...originLines(origin, K));
  if (steps === 0) {
    lines.push("centroids = initial_centroids");
    return lines.join("\n") + "\n";
  }
  const t = Math.floor((steps - 1) / 2);
  lines.push(`centroids, idx = run_kmeans(X, initial_centroids, max_iters=${t})`);
  if (steps % 2 === 0) {
    lines.push(`centroids = compute_centroids(X, idx, ${K}, previous_centroids=centroids)`);
  }
  lines.push("print(compute_distortion(X, idx, centroids))  # J, as the page shows it");
  return lines.join("\n") + "\n";
}
