"""``lloyd cluster``, run in-process through ``main(argv)``: CSV, NPY and stdin inputs, outputs,
bad files and their exit codes; and the table readers of lloyd.tables."""

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from _peak import peak_mb_of_command
from lloyd import MiniBatchKMeans
from lloyd.cli import ExitCode, main
from lloyd.tables import NpyRows, read_csv

PNG = b"\x89PNG\r\n\x1a\n"


def blobs(n=300, d=2, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(k, d)) * 3
    truth = rng.integers(0, k, size=n)
    return centers[truth] + rng.normal(size=(n, d)), truth


@pytest.fixture
def data_csv(tmp_path):
    """A CSV with a header, a text column and two numeric columns."""
    X, _ = blobs()
    path = tmp_path / "points.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "x", "y"])
        for i, (x, y) in enumerate(X):
            writer.writerow([f"p{i}", f"{x:.6f}", f"{y:.6f}"])
    return path


@pytest.fixture
def data_npy(tmp_path):
    X, _ = blobs(n=5000, d=5, k=4, seed=1)
    path = tmp_path / "points.npy"
    np.save(path, X)
    return path


def one_error_line(capsys):
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lloyd cluster: ") and captured.err.count("\n") == 1
    return captured.err


# ---------------------------------------------------------------- CSV


def test_csv_labels_have_one_row_per_input_row(data_csv, tmp_path, capsys):
    labels = tmp_path / "labelled.csv"
    centers = tmp_path / "centers.csv"
    code = main(["cluster", str(data_csv), "-k", "3", "--columns", "x,y", "--labels",
                 str(labels), "--centers", str(centers), "--random-state", "0"])
    assert code == ExitCode.OK
    out = capsys.readouterr().out
    assert "300 rows x 2 columns (x, y)" in out and "k=3" in out and f"wrote {labels}" in out
    with open(data_csv) as f:
        original = list(csv.reader(f))
    with open(labels) as f:
        written = list(csv.reader(f))
    assert written[0] == ["name", "x", "y", "cluster"]
    assert len(written) == len(original) == 301
    assert [row[:3] for row in written] == original
    assert {row[3] for row in written[1:]} == {"0", "1", "2"}
    with open(centers) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["x", "y"] and len(rows) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["centers.csv", "labelled.csv",
                                                          "points.csv"]  # no temporary files


def test_text_column_is_rejected_by_name(data_csv, capsys):
    assert main(["cluster", str(data_csv), "-k", "3"]) == ExitCode.DATA_ERROR
    err = one_error_line(capsys)
    assert "column 'name' is not numeric" in err and "--columns x,y" in err


def test_headerless_csv_and_column_positions(tmp_path, capsys):
    X, truth = blobs(n=120)
    path = tmp_path / "plain.csv"
    np.savetxt(path, X, delimiter=";")
    labels = tmp_path / "labels.csv"
    assert main(["cluster", str(path), "-k", "3", "--labels", str(labels), "--columns", "1,2",
                 "--random-state", "1"]) == ExitCode.OK
    with open(labels) as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert len(rows) == 120 and len(rows[0]) == 3  # no header in, none out
    found = np.array([int(r[2]) for r in rows])
    assert len(set(zip(found.tolist(), truth.tolist()))) == 3  # the true clusters


def test_stdin_json_report(data_csv, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(data_csv.read_text()))
    assert main(["cluster", "-", "-k", "3", "--columns", "x,y", "--json",
                 "--random-state", "0"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert report["data"] == "<stdin>" and report["k"] == 3 and report["rows"] == 300
    assert sum(report["cluster_sizes"]) == 300 and len(report["cluster_sizes"]) == 3
    assert report["inertia"] > 0 and report["iterations"] >= 1 and report["time_s"] >= 0
    assert np.array(report["centers"]).shape == (3, 2)


def test_scale_writes_centres_in_the_columns_units(tmp_path, capsys):
    X, truth = blobs(n=600, seed=3)
    X[:, 1] *= 1000  # a column in other units
    path = tmp_path / "units.csv"
    np.savetxt(path, X, delimiter=",", header="a,b", comments="")
    centers = tmp_path / "centers.npy"
    assert main(["cluster", str(path), "-k", "3", "--scale", "--centers", str(centers),
                 "--random-state", "0"]) == ExitCode.OK
    assert "(standardised columns)" in capsys.readouterr().out
    means = np.array([X[truth == j].mean(axis=0) for j in range(3)])
    got = np.load(centers)
    np.testing.assert_allclose(got[np.argsort(got[:, 0])], means[np.argsort(means[:, 0])],
                               rtol=1e-6)


# ---------------------------------------------------------------- NPY


def test_npy_labels_and_centres(data_npy, tmp_path, capsys):
    labels = tmp_path / "labels.npy"
    centers = tmp_path / "centers.npy"
    assert main(["cluster", str(data_npy), "-k", "4", "--labels", str(labels), "--centers",
                 str(centers), "--random-state", "0", "--algorithm", "elkan"]) == ExitCode.OK
    assert "k-means (elkan" in capsys.readouterr().out
    got = np.load(labels)
    assert got.shape == (5000,) and got.dtype == np.int32
    assert np.load(centers).shape == (4, 5)


def test_init_afk_mc2_gives_the_estimator_s_centres(data_npy, tmp_path, monkeypatch):
    import lloyd.seeding
    from lloyd import KMeans

    calls = []
    seeding = lloyd.seeding._afkmc2
    monkeypatch.setattr(lloyd.seeding, "_afkmc2",
                        lambda *args, **kw: calls.append(1) or seeding(*args, **kw))
    centers = tmp_path / "centers.npy"
    assert main(["cluster", str(data_npy), "-k", "4", "--init", "afk-mc2", "--centers",
                 str(centers), "--random-state", "0"]) == ExitCode.OK
    assert calls == [1]
    model = KMeans(4, init="afk-mc2", random_state=0).fit(np.load(data_npy))
    np.testing.assert_allclose(np.load(centers), model.cluster_centers_, rtol=1e-12)


def test_streamed_minibatch_equals_the_estimator_on_the_loaded_array(data_npy, tmp_path, capsys):
    """--minibatch reads the .npy a batch at a time and writes the labels a slice at a time;
    the fit is the same as MiniBatchKMeans on the whole array with the same seed."""
    labels = tmp_path / "labels.npy"
    centers = tmp_path / "centers.npy"
    assert main(["cluster", str(data_npy), "-k", "4", "--minibatch", "--batch-size", "256",
                 "--labels", str(labels), "--centers", str(centers), "--random-state", "7",
                 "--json"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    ref = MiniBatchKMeans(4, batch_size=256, random_state=7).fit(np.load(data_npy))
    np.testing.assert_array_equal(np.load(centers), ref.cluster_centers_)
    np.testing.assert_array_equal(np.load(labels), ref.labels_)
    assert report["inertia"] == pytest.approx(ref.inertia_, rel=1e-12)
    assert report["batches"] == ref.n_steps_
    assert report["cluster_sizes"] == np.bincount(ref.labels_).tolist()


def test_streamed_labels_as_csv_and_scaled(data_npy, tmp_path, capsys):
    labels = tmp_path / "labels.csv"
    assert main(["cluster", str(data_npy), "-k", "4", "--minibatch", "--scale",
                 "--labels", str(labels), "--random-state", "0"]) == ExitCode.OK
    lines = labels.read_text().splitlines()
    assert lines[0] == "cluster" and len(lines) == 5001


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_npy_rows_read_what_numpy_reads(tmp_path, order, dtype):
    X = (np.random.default_rng(0).normal(size=(1000, 4)) * 50).astype(dtype)
    path = tmp_path / "x.npy"
    np.save(path, np.asarray(X, order=order))
    rows = NpyRows(path, columns=["2", "4"])
    expected = X[:, [1, 3]].astype(np.float32 if dtype == np.float32 else np.float64)
    assert rows.shape == (1000, 2) and rows.dtype == expected.dtype
    indices = np.array([0, 5, 5, 999, 500])
    np.testing.assert_array_equal(rows.take(indices), expected[indices])
    np.testing.assert_array_equal(np.vstack([c for _, c in rows.chunks()]), expected)
    np.testing.assert_array_equal(rows.load(), expected)


def test_a_streamed_fit_equals_the_fit_of_the_loaded_array(data_npy):
    """The same seed gives the same fit from NpyRows (tol > 0: its variance pass too)."""
    params = {"n_clusters": 4, "batch_size": 300, "random_state": 3, "tol": 1e-3,
              "max_no_improvement": None}
    streamed = MiniBatchKMeans(**params)._fit_rows(NpyRows(data_npy))
    loaded = MiniBatchKMeans(**params).fit(np.load(data_npy))
    assert streamed.n_steps_ == loaded.n_steps_ < 100 * 5000 // 300  # stopped by tol
    np.testing.assert_allclose(streamed.cluster_centers_, loaded.cluster_centers_, rtol=1e-12)
    np.testing.assert_array_equal(streamed.labels_, loaded.labels_)


def test_one_dimensional_npy_is_one_column(tmp_path):
    path = tmp_path / "v.npy"
    np.save(path, np.arange(10.0))
    assert NpyRows(path).shape == (10, 1)


# ---------------------------------------------------------------- figures and the elbow


def test_plot_2d_and_pca(data_csv, data_npy, tmp_path):
    fig2 = tmp_path / "two.png"
    fig5 = tmp_path / "five.png"
    assert main(["cluster", str(data_csv), "-k", "3", "--columns", "x,y", "--plot",
                 str(fig2), "-q"]) == ExitCode.OK
    assert main(["cluster", str(data_npy), "-k", "4", "--minibatch", "--plot", str(fig5),
                 "-q"]) == ExitCode.OK
    assert fig2.read_bytes()[:8] == PNG and fig5.read_bytes()[:8] == PNG


def test_elbow_prints_a_table_and_writes_the_figure(data_csv, tmp_path, capsys):
    figure = tmp_path / "elbow.png"
    assert main(["cluster", str(data_csv), "--columns", "x,y", "--elbow", "1..5", "--plot",
                 str(figure), "--random-state", "0"]) == ExitCode.OK
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "silhouette" in lines[1] and len([ln for ln in lines if ln.strip()[:1].isdigit()]) == 5
    assert figure.read_bytes()[:8] == PNG
    assert main(["cluster", str(data_csv), "--columns", "x,y", "--elbow", "2..4", "--plot",
                 str(tmp_path / "e2.png"), "--json", "--minibatch"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    results = report["results"]
    assert [r["k"] for r in results] == [2, 3, 4]
    best = max(results, key=lambda r: r["silhouette"])
    assert best["k"] == 3  # three blobs


# ---------------------------------------------------------------- outputs and errors


def test_existing_output_needs_force(data_csv, tmp_path, capsys):
    labels = tmp_path / "labels.npy"
    labels.write_bytes(b"keep me")
    argv = ["cluster", str(data_csv), "-k", "3", "--columns", "x,y", "--labels", str(labels)]
    assert main(argv) == ExitCode.OUTPUT_EXISTS
    assert "already exists; use --force" in one_error_line(capsys)
    assert labels.read_bytes() == b"keep me"
    assert main([*argv, "--force"]) == ExitCode.OK
    assert np.load(labels).shape == (300,)


def test_missing_input_and_output_folder_are_io_errors(data_csv, tmp_path, capsys):
    assert main(["cluster", str(tmp_path / "nope.csv")]) == ExitCode.IO_ERROR
    assert "No such file or directory" in one_error_line(capsys)
    assert main(["cluster", str(data_csv), "--columns", "x,y", "--labels",
                 str(tmp_path / "no" / "l.csv")]) == ExitCode.IO_ERROR
    assert "does not exist" in one_error_line(capsys)


BAD_CSV = [
    ("ragged", "x,y\n1,2\n3,4,5\n6,7\n", "line 3: 3 fields where line 1 has 2"),
    ("text in a numeric column", "x,y\n1,2\n3,abc\n5,6\n", "line 3, column 'y': 'abc' is not a number"),
    ("empty", "", "is empty: there are no rows to cluster"),
    ("blank lines only", "\n\n  \n", "is empty"),
    ("header only", "x,y\n", "has a header but no data rows"),
    ("not finite", "x,y\n1,2\n3,nan\n", "line 3, column 'y': 'nan' is not a finite number"),
    ("k > rows", "x,y\n1,2\n3,4\n5,6\n", "k=4 must be <= the number of rows n_rows=3"),
    ("too large", "x,y\n1,2\n3,1e200\n5,6\n7,8\n", "values as large as 1e+200 would overflow k-means' squared distances (safe up to 4.74e+153 with 2 columns)"),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD_CSV, ids=[c[0] for c in BAD_CSV])
def test_bad_csv_files(tmp_path, capsys, case, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    assert main(["cluster", str(path), "-k", "4"]) == ExitCode.DATA_ERROR
    assert message in one_error_line(capsys)


def test_bad_npy_files(tmp_path, capsys):
    cases = {
        "nan.npy": (np.array([[0.0, 1.0], [np.inf, 2.0]]), "row 2: a value is NaN or infinite"),
        "cube.npy": (np.zeros((2, 2, 2)), "a table must be 2-D"),
        "text.npy": (np.array([["a", "b"]]), "k-means needs numbers"),
        "empty.npy": (np.zeros((0, 3)), "no rows to cluster"),
        "huge.npy": (np.array([[0.0, 1.0], [1e200, 2.0]]), "values as large as 1e+200 would"),
    }
    for name, (array, message) in cases.items():
        np.save(tmp_path / name, array)
        assert main(["cluster", str(tmp_path / name), "-k", "1"]) == ExitCode.DATA_ERROR, name
        assert message in one_error_line(capsys), name
    binary = tmp_path / "image.bin"
    binary.write_bytes(bytes(range(256)))
    assert main(["cluster", str(binary)]) == ExitCode.DATA_ERROR
    assert "is not a UTF-8 text (CSV) file nor a .npy file" in one_error_line(capsys)


def test_unknown_column(data_csv, capsys):
    assert main(["cluster", str(data_csv), "--columns", "x,z"]) == ExitCode.DATA_ERROR
    assert "has no column 'z'; its columns are name, x, y" in one_error_line(capsys)


@pytest.mark.parametrize(("argv", "message"), [
    (["--batch-size", "10"], "--batch-size needs --minibatch"),
    (["--minibatch", "--algorithm", "elkan"], "--algorithm applies to exact k-means"),
    (["--elbow", "2..5", "-k", "3"], "--elbow fits a range of K"),
    (["--elbow", "5..2"], "is not a range of K like 2..12"),
    (["-k", "0"], "0 must be >= 1"),
    (["--labels", "same.npy", "--centers", "same.npy"], "need different files"),
])
def test_usage_errors(data_csv, capsys, argv, message):
    assert main(["cluster", str(data_csv), *argv]) == ExitCode.USAGE_ERROR
    assert message in capsys.readouterr().err


def test_progress_bar_only_when_asked(data_npy, capsys):
    from lloyd.tables import cluster_file

    cluster_file(data_npy, 4, minibatch=True, progress=True, random_state=0)
    assert "mini-batches" in capsys.readouterr().err
    # main() hides it when standard error is not a terminal (as under pytest)
    assert main(["cluster", str(data_npy), "-k", "4", "--minibatch"]) == ExitCode.OK
    assert capsys.readouterr().err == ""


def test_exact_fits_show_iterations(data_npy, capsys):
    from lloyd.tables import cluster_file

    cluster_file(data_npy, 4, progress=True, random_state=0)
    err = capsys.readouterr().err
    assert "iterations" in err and "mini-batches" not in err


def test_the_progress_callback_ticks_once_per_iteration():
    from lloyd import KMeans

    X = np.random.default_rng(0).normal(size=(500, 3))
    for algorithm in ("lloyd", "elkan", "hamerly"):
        ticks = []
        km = KMeans(4, random_state=0, n_init=2, algorithm=algorithm)
        km._fit(X, progress=lambda ticks=ticks: ticks.append(1))
        assert len(ticks) >= km.n_iter_ and len(ticks) > 2


def test_read_csv_detects_the_header():
    with_header = read_csv("-", stdin=io.StringIO("a,b\n1,2\n3,4\n"))
    assert with_header.header == ["a", "b"] and with_header.n_rows == 2
    without = read_csv("-", stdin=io.StringIO("1,2\n3,4\n"))
    assert without.header is None and without.n_rows == 2
    labelled_rows = read_csv("-", stdin=io.StringIO("p,1,2\nq,3,4\n"), columns=["2", "3"])
    assert labelled_rows.header is None and labelled_rows.X.tolist() == [[1, 2], [3, 4]]
    tabs = read_csv("-", stdin=io.StringIO("a\tb\n1\t2\n"))
    assert tabs.delimiter == "\t" and tabs.X.tolist() == [[1, 2]]


def test_cluster_help_imports_neither_numba_nor_matplotlib():
    code = (
        "import sys, contextlib, io\n"
        "from lloyd.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out: main(['cluster', '--help'])\n"
        "assert '--minibatch' in out.getvalue() and 'exit codes' in out.getvalue()\n"
        "bad = [m for m in ('numba', 'matplotlib', 'sklearn') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_streaming_memory_stays_below_the_file_size(tmp_path):
    """A 600 MB .npy clustered with --minibatch in a subprocess: its peak resident memory stays
    well under the file's size (loading it would need the file's size on top of the
    interpreter, ~250 MB with numpy, numba and scikit-learn)."""
    n, d = 600 * 2**20 // (16 * 8), 16
    X = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float64,
                                  shape=(n, d))
    rng = np.random.default_rng(0)
    centers = rng.uniform(-5, 5, size=(8, d))
    for start in range(0, n, 500_000):
        stop = min(n, start + 500_000)
        X[start:stop] = centers[rng.integers(0, 8, stop - start)] + rng.normal(
            size=(stop - start, d))
    X.flush()
    del X
    argv = ["cluster", str(tmp_path / "big.npy"), "-k", "8", "--minibatch", "--batch-size",
            "4096", "--labels", str(tmp_path / "labels.npy"), "-q", "--json"]
    peak_mb = peak_mb_of_command(argv)
    assert peak_mb < 450, f"peak RSS {peak_mb:.0f} MB for a 600 MB file"
    assert np.load(tmp_path / "labels.npy", mmap_mode="r").shape == (n,)


def test_every_exact_algorithm_is_offered_and_gives_the_same_clusters(data_npy, tmp_path,
                                                                      capsys):
    """``--algorithm`` offers what KMeans accepts (one list), each with Lloyd's answer."""
    from lloyd._options import ALGORITHMS

    labels = {}
    for algorithm in ALGORITHMS:
        out = tmp_path / f"{algorithm}.npy"
        assert main(["cluster", str(data_npy), "-k", "4", "--labels", str(out),
                     "--random-state", "0", "--algorithm", algorithm]) == ExitCode.OK
        assert f"k-means ({algorithm}" in capsys.readouterr().out
        labels[algorithm] = np.load(out)
    assert set(ALGORITHMS) >= {"lloyd", "elkan", "hamerly", "yinyang"}
    for algorithm in ALGORITHMS:
        np.testing.assert_array_equal(labels[algorithm], labels["lloyd"])
