"""``lloyd cluster`` on tables read through pyarrow: compressed CSV, Parquet (in memory and
streamed by row group with --minibatch), Feather and Arrow IPC streams; labels and centres
written as Parquet and Feather; and the errors of each, with their exit codes."""

import bz2
import csv
import gzip
import io
import json
import lzma
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from _peak import peak_mb_of_command
from lloyd import KMeans, MiniBatchKMeans
from lloyd.cli import ExitCode, main
from lloyd.tables import CsvTable, NpyRows, Table, open_table, read_csv


def blobs(n=600, d=3, k=4, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(k, d)) * 3
    return centers[rng.integers(0, k, size=n)] + rng.normal(size=(n, d))


def write_csv_text(X, header=("a", "b", "c"), delimiter=","):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows([[f"{v:.6f}" for v in row] for row in X])
    return out.getvalue()


def zstd(data):
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as f:
        f.write(data)
    return sink.getvalue().to_pybytes()


COMPRESSORS = {
    "csv.gz": gzip.compress,
    "csv.bz2": bz2.compress,
    "csv.xz": lzma.compress,
    "csv.zst": zstd,
}


def one_error_line(capsys):
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lloyd cluster: ") and captured.err.count("\n") == 1
    return captured.err


# ---------------------------------------------------------------- CSV, compressed


@pytest.mark.parametrize("suffix", COMPRESSORS)
def test_compressed_csv_reads_as_the_plain_file(tmp_path, capsys, suffix):
    X = blobs()
    text = write_csv_text(X, delimiter=";")
    plain = tmp_path / "plain.csv"
    plain.write_text(text)
    packed = tmp_path / f"packed.{suffix}"
    packed.write_bytes(COMPRESSORS[suffix](text.encode()))
    table = read_csv(packed)
    assert table.header == ["a", "b", "c"] and table.delimiter == ";"
    np.testing.assert_array_equal(table.X, np.round(X, 6))
    np.testing.assert_array_equal(table.X, read_csv(plain).X)

    labels = tmp_path / "labels.csv"
    assert main(["cluster", str(packed), "-k", "4", "--labels", str(labels),
                 "--random-state", "0"]) == ExitCode.OK
    assert f"{packed}: 600 rows x 3 columns (a, b, c)" in capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(labels.read_text()), delimiter=";"))
    assert rows[0] == ["a", "b", "c", "cluster"]
    assert [r[:3] for r in rows] == list(csv.reader(io.StringIO(text), delimiter=";"))
    ref = KMeans(4, random_state=0).fit(np.round(X, 6))
    np.testing.assert_array_equal([int(r[3]) for r in rows[1:]], ref.labels_)


def test_compressed_csv_on_standard_input(tmp_path, monkeypatch, capsys):
    X = blobs(n=100)
    data = gzip.compress(write_csv_text(X).encode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["cluster", "-", "-k", "2", "--json", "--random-state", "0"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert report["data"] == "<stdin>" and report["rows"] == 100 and report["columns"] == [
        "a", "b", "c"]


def test_bad_rows_in_a_compressed_csv_are_named_by_line(tmp_path, capsys):
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(gzip.compress(b"x,y\n1,2\n\n3,4\n5,six\n"))
    assert main(["cluster", str(path), "-k", "2"]) == ExitCode.DATA_ERROR
    assert "bad.csv.gz, line 5, column 'y': 'six' is not a number" in one_error_line(capsys)
    path.write_bytes(gzip.compress(b"x,y\n1,2\n3,4,5\n"))
    assert main(["cluster", str(path), "-k", "2", "-f"]) == ExitCode.DATA_ERROR
    assert "line 3: 3 fields where line 1 has 2" in one_error_line(capsys)


@pytest.mark.parametrize("suffix", COMPRESSORS)
def test_a_truncated_compressed_csv_is_a_clear_data_error(tmp_path, capsys, suffix):
    text = ("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(20000))).encode()
    data = COMPRESSORS[suffix](text)
    path = tmp_path / f"cut.{suffix}"
    path.write_bytes(data[:len(data) // 2])
    assert main(["cluster", str(path), "-k", "2"]) == ExitCode.DATA_ERROR
    kind = {"csv.gz": "gzip", "csv.bz2": "bzip2", "csv.xz": "xz", "csv.zst": "zstd"}[suffix]
    assert f"cut.{suffix}: its {kind} data is truncated or corrupt (" in one_error_line(capsys)


def test_compressed_binary_is_not_a_table(tmp_path, capsys):
    path = tmp_path / "noise.gz"
    path.write_bytes(gzip.compress(bytes(range(256)) * 4))
    assert main(["cluster", str(path)]) == ExitCode.DATA_ERROR
    assert "is not a UTF-8 text (CSV) file nor a .npy file" in one_error_line(capsys)


def test_a_csv_of_many_blocks_reads_as_numpy_reads_it(tmp_path):
    """Larger than pyarrow's block and the 64 KiB the header is detected on."""
    X = np.random.default_rng(4).normal(size=(120_000, 5)) * 1000
    path = tmp_path / "big.csv"
    np.savetxt(path, X, delimiter=",", header="p,q,r,s,t", comments="", fmt="%.17g")
    table = read_csv(path, columns=["t", "1"])
    assert isinstance(table, CsvTable) and table.names == ["t", "p"]
    np.testing.assert_array_equal(table.X, X[:, [4, 0]])


def test_blank_and_space_only_lines_are_skipped_as_before():
    table = read_csv("-", stdin=io.StringIO("v\n1\n  \n2\n\n3\n"))
    assert table.header == ["v"] and table.X.ravel().tolist() == [1, 2, 3]
    table = read_csv("-", stdin=io.StringIO("\n\nx,y\n1,2\n   \n3,4\n"))
    assert table.header == ["x", "y"] and table.X.tolist() == [[1, 2], [3, 4]]
    # blank lines between CRLF line ends once hid the delimiter from csv.Sniffer
    table = read_csv("-", stdin=io.StringIO("0;1\r\n\r\n2;3\r\n\r\n4;5\r\n"))
    assert table.delimiter == ";" and table.X.tolist() == [[0, 1], [2, 3], [4, 5]]


# ---------------------------------------------------------------- Parquet and Feather


@pytest.fixture
def table_X():
    return blobs(n=5000, d=4, seed=2)


def arrow_table(X, names=("w", "x", "y", "z")):
    return pa.table({n: X[:, j] for j, n in enumerate(names)})


def test_parquet_in_memory_with_parquet_labels_and_centres(tmp_path, table_X, capsys):
    data = tmp_path / "points.parquet"
    pq.write_table(arrow_table(table_X).append_column("name", pa.array(["p"] * 5000)), data)
    labels = tmp_path / "labels.parquet"
    centers = tmp_path / "centers.parquet"
    assert main(["cluster", str(data), "-k", "4", "--columns", "w,x,y,4", "--labels",
                 str(labels), "--centers", str(centers), "--random-state", "0"]) == ExitCode.OK
    assert "5,000 rows x 4 columns (w, x, y, z)" in capsys.readouterr().out
    ref = KMeans(4, random_state=0).fit(table_X)
    written = pq.read_table(labels)
    assert written.schema == pa.schema([("cluster", pa.int32())])
    np.testing.assert_array_equal(written.column("cluster").to_numpy(), ref.labels_)
    got = pq.read_table(centers)
    assert got.column_names == ["w", "x", "y", "z"]
    np.testing.assert_array_equal(np.column_stack(list(got.to_pydict().values())),
                                  ref.cluster_centers_)


def test_parquet_streams_by_row_group_with_minibatch(tmp_path, table_X, monkeypatch, capsys):
    """--minibatch reads the Parquet file one row group at a time (never whole) into a spool
    that is removed afterwards; the fit equals MiniBatchKMeans on the loaded array."""
    data = tmp_path / "points.parquet"
    pq.write_table(arrow_table(table_X), data, row_group_size=700)  # 8 row groups
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool_dir))
    monkeypatch.setattr("tempfile.tempdir", None)
    read_groups = []
    read_group = pq.ParquetFile.read_row_group

    def counting(self, i, *args, **kwargs):
        read_groups.append(i)
        return read_group(self, i, *args, **kwargs)

    def never(self, *args, **kwargs):
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", counting)
    monkeypatch.setattr(pq.ParquetFile, "read", never)
    labels = tmp_path / "labels.parquet"
    centers = tmp_path / "centers.npy"
    assert main(["cluster", str(data), "-k", "4", "--minibatch", "--batch-size", "256",
                 "--labels", str(labels), "--centers", str(centers), "--random-state", "7",
                 "--json"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert read_groups == list(range(8))
    assert list(spool_dir.iterdir()) == []  # the spool is gone
    ref = MiniBatchKMeans(4, batch_size=256, random_state=7).fit(table_X)
    np.testing.assert_array_equal(np.load(centers), ref.cluster_centers_)
    written = pq.ParquetFile(labels)
    assert written.metadata.num_rows == 5000
    np.testing.assert_array_equal(read_group(written, 0).column(0).to_numpy(), ref.labels_[
        :written.metadata.row_group(0).num_rows])
    assert report["inertia"] == pytest.approx(ref.inertia_, rel=1e-12)
    assert report["cluster_sizes"] == np.bincount(ref.labels_).tolist()


def test_streamed_parquet_labels_equal_the_estimator_s(tmp_path, table_X):
    data = tmp_path / "points.parquet"
    pq.write_table(arrow_table(table_X), data, row_group_size=1000)
    rows = open_table(data, stream=True)
    try:
        assert isinstance(rows, NpyRows) and rows.shape == (5000, 4)
        np.testing.assert_array_equal(rows.load(), table_X)
        np.testing.assert_array_equal(rows.take(np.array([4999, 0, 1234])),
                                      table_X[[4999, 0, 1234]])
    finally:
        rows.close()
    assert not rows.path.exists()
    labels = tmp_path / "labels.parquet"
    assert main(["cluster", str(data), "-k", "3", "--minibatch", "--labels", str(labels),
                 "--random-state", "1", "-q"]) == ExitCode.OK
    ref = MiniBatchKMeans(3, random_state=1).fit(table_X)
    np.testing.assert_array_equal(pq.read_table(labels).column("cluster").to_numpy(),
                                  ref.labels_)


@pytest.mark.parametrize("stream", [False, True])
def test_feather_float32_and_feather_labels(tmp_path, table_X, stream):
    X = table_X.astype(np.float32)
    data = tmp_path / "points.feather"
    feather.write_feather(arrow_table(X), data, chunksize=1500)  # 4 record batches, lz4
    table = open_table(data, stream=stream)
    try:
        assert table.dtype == np.float32 if stream else table.X.dtype == np.float32
        np.testing.assert_array_equal(table.load() if stream else table.X, X)
    finally:
        table.close()
    labels = tmp_path / "labels.arrow"
    argv = ["cluster", str(data), "-k", "4", "--labels", str(labels), "--random-state", "0",
            "-q"] + (["--minibatch"] if stream else [])
    assert main(argv) == ExitCode.OK
    est = (MiniBatchKMeans if stream else KMeans)(4, random_state=0).fit(X)
    np.testing.assert_array_equal(feather.read_table(labels).column("cluster").to_numpy(),
                                  est.labels_)


def test_arrow_ipc_stream(tmp_path, table_X):
    data = tmp_path / "points.arrows"
    with pa.ipc.new_stream(str(data), arrow_table(table_X).schema) as writer:
        writer.write_table(arrow_table(table_X), max_chunksize=2000)
    table = open_table(data, columns=["y", "1"])
    assert isinstance(table, Table) and table.names == ["y", "w"]
    np.testing.assert_array_equal(table.X, table_X[:, [2, 0]])


def test_integer_and_boolean_columns_are_numbers(tmp_path):
    data = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"i": pa.array([1, 2, 30], pa.int16()),
                             "b": pa.array([True, False, True])}), data)
    table = open_table(data)
    assert table.X.dtype == np.float64 and table.X.tolist() == [[1, 1], [2, 0], [30, 1]]


BAD_ARROW = [
    ("missing value", lambda: pa.table({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, None]}), [],
     "row 3, column 'y': the value is missing (null); k-means needs a number in every cell"),
    ("NaN", lambda: pa.table({"x": [1.0, float("nan")], "y": [1.0, 2.0]}), [],
     "row 2: a value is NaN or infinite; k-means needs finite numbers"),
    ("text column", lambda: pa.table({"name": ["a", "b"], "x": [1.0, 2.0]}), [],
     "column 'name' is not numeric; choose the columns to cluster with --columns, e.g. "
     "--columns x"),
    ("text column chosen", lambda: pa.table({"name": ["a", "b"], "x": [1.0, 2.0]}),
     ["--columns", "name"], "column 'name' holds string values; k-means needs numbers"),
    ("unknown column", lambda: pa.table({"x": [1.0, 2.0]}), ["--columns", "z"],
     "has no column 'z'; its columns are x (names or positions 1 to 1)"),
    ("no rows", lambda: pa.table({"x": pa.array([], pa.float64())}), [],
     "has no rows: there are no rows to cluster"),
    ("too large", lambda: pa.table({"x": [1.0, 1e200]}), [],
     "values as large as 1e+200 would overflow k-means' squared distances"),
    ("k > rows", lambda: pa.table({"x": [1.0, 2.0]}), ["-k", "3"],
     "k=3 must be <= the number of rows n_rows=2"),
]


@pytest.mark.parametrize("fmt", ["parquet", "feather"])
@pytest.mark.parametrize(("case", "make", "argv", "message"), BAD_ARROW,
                         ids=[c[0] for c in BAD_ARROW])
@pytest.mark.parametrize("minibatch", [False, True])
def test_bad_parquet_and_feather_files(tmp_path, capsys, fmt, case, make, argv, message,
                                       minibatch):
    path = tmp_path / f"bad.{fmt}"
    (pq.write_table if fmt == "parquet" else feather.write_feather)(make(), path)
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    argv = ["cluster", str(path), "-k", "1", *argv] + (["--minibatch"] if minibatch else [])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TMPDIR", str(spool_dir))
        mp.setattr("tempfile.tempdir", None)
        assert main(argv) == ExitCode.DATA_ERROR
    assert message in one_error_line(capsys)
    assert list(spool_dir.iterdir()) == []


@pytest.mark.parametrize("fmt", ["parquet", "feather"])
def test_a_truncated_file_is_a_clear_data_error(tmp_path, table_X, capsys, fmt):
    path = tmp_path / f"cut.{fmt}"
    (pq.write_table if fmt == "parquet" else feather.write_feather)(arrow_table(table_X), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    assert main(["cluster", str(path), "-k", "2"]) == ExitCode.DATA_ERROR
    kind = "Parquet" if fmt == "parquet" else "Feather"
    assert f"is not a readable {kind} file" in one_error_line(capsys)


def test_parquet_labels_refuse_to_overwrite(tmp_path, table_X, capsys):
    data = tmp_path / "points.parquet"
    pq.write_table(arrow_table(table_X), data)
    labels = tmp_path / "labels.parquet"
    labels.write_bytes(b"keep")
    assert main(["cluster", str(data), "--labels", str(labels)]) == ExitCode.OUTPUT_EXISTS
    assert labels.read_bytes() == b"keep"
    capsys.readouterr()


def test_only_the_table_path_imports_pyarrow(tmp_path):
    """--help and reading a .npy file never load pyarrow; reading a Parquet file does. (A fit
    may load it through scikit-learn, which imports pandas when it is installed.)"""
    np.save(tmp_path / "x.npy", blobs(n=50))
    pq.write_table(arrow_table(blobs(n=50, d=4)), tmp_path / "x.parquet")
    code = (
        "import sys, contextlib, io\n"
        "from lloyd.cli import main\n"
        "from lloyd.tables import open_table\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['cluster', '--help'])\n"
        f"assert open_table({str(tmp_path / 'x.npy')!r}).shape == (50, 3)\n"
        "assert 'pyarrow' not in sys.modules\n"
        f"assert open_table({str(tmp_path / 'x.parquet')!r}).X.shape == (50, 4)\n"
        "assert 'pyarrow' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- pyarrow agrees with csv


@settings(max_examples=60, deadline=None)
@given(
    X=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
                 elements=st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 4))),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    header=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    blank_every=st.integers(0, 3),
    fmt=st.sampled_from(["{:g}", "{:.4f}", "{:.6e}", "{!r}"]),
)
def test_pyarrow_reads_what_the_csv_module_reads(X, delimiter, header, newline, blank_every,
                                                 fmt):
    """The fast path (pyarrow) and the csv module (which names bad lines) read every table of
    numbers alike: headers, delimiters, CRLF, blank lines, number formats."""
    from lloyd._readers import _read_csv_slowly, _Source

    lines = [delimiter.join(f"c{j}" for j in range(X.shape[1]))] if header else []
    for i, row in enumerate(X):
        if blank_every and i % blank_every == 0:
            lines.append("")
        lines.append(delimiter.join(fmt.format(float(v)) for v in row))
    text = newline.join(lines) + newline
    table = read_csv("-", stdin=io.StringIO(text))
    if table.delimiter != delimiter:
        assert X.shape[1] == 1  # one column: no delimiter to detect
    slow = _read_csv_slowly(_Source("-", io.StringIO(text)), table.delimiter,
                            table.header is not None, table.columns,
                            [str(j) for j in range(len(table.columns))])
    np.testing.assert_array_equal(table.X, slow)
    written = np.vectorize(lambda v: float(fmt.format(float(v))))(X)  # what the text says
    np.testing.assert_array_equal(table.X, written)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_streaming_a_parquet_file_stays_below_its_size_in_memory(tmp_path):
    """A Parquet file of 600 MB of float64 values clustered with --minibatch in a subprocess:
    its peak resident memory (467 MB when written) stays under the values' size, where reading
    them whole would need that much on top of the interpreter's ~310 MB (numpy, numba,
    scikit-learn, pyarrow): one row group at a time is read, spooled to disk and streamed."""

    n, d, group = 600 * 2**20 // (16 * 8), 16, 200_000
    rng = np.random.default_rng(0)
    centers = rng.uniform(-5, 5, size=(8, d))
    names = [f"x{j}" for j in range(d)]
    schema = pa.schema([(name, pa.float64()) for name in names])
    with pq.ParquetWriter(tmp_path / "big.parquet", schema, compression="none") as writer:
        for start in range(0, n, group):
            rows = centers[rng.integers(0, 8, min(group, n - start))]
            rows = rows + rng.normal(size=rows.shape)
            writer.write_table(pa.table({name: rows[:, j] for j, name in enumerate(names)}))
    spool = tmp_path / "tmp"
    spool.mkdir()
    argv = ["cluster", str(tmp_path / "big.parquet"), "-k", "8", "--minibatch", "--batch-size",
            "4096", "--labels", str(tmp_path / "labels.parquet"), "-q", "--json"]
    peak_mb = peak_mb_of_command(argv, TMPDIR=str(spool))
    assert peak_mb < 600, f"peak RSS {peak_mb:.0f} MB for 600 MB of values"
    assert pq.ParquetFile(tmp_path / "labels.parquet").metadata.num_rows == n
    assert list(spool.iterdir()) == []


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_streamed_tolerance_is_the_engines_rule_over_slices(tmp_path, monkeypatch, dtype):
    """A streamed .npy's stopping threshold is tol x the mean feature variance, merged slice by
    slice (here 97 slices of uneven sizes), equal to the in-memory rule and to float64 numpy."""
    from lloyd import _npy_rows
    from lloyd._engine import tolerance

    rng = np.random.default_rng(0)
    X = (rng.normal(size=(10_007, 5)) * [1, 10, 100, 0.1, 3] + 1e3).astype(dtype)
    path = tmp_path / "x.npy"
    np.save(path, X)
    monkeypatch.setattr(_npy_rows, "CHUNK_BYTES", 103 * 5 * X.itemsize)
    rows = _npy_rows.NpyRows(path)
    assert sum(1 for _ in rows.chunks()) == 98
    expected = 1e-4 * np.var(X.astype(np.float64), axis=0).mean()
    assert rows.tolerance(1e-4) == pytest.approx(expected, rel=1e-10)
    assert rows.tolerance(1e-4) == pytest.approx(tolerance(np.ascontiguousarray(X), 1e-4),
                                                 rel=1e-10)
    assert rows.tolerance(0) == 0.0
