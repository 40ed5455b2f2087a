"""Tables on disk read through Apache Arrow for ``lloyd cluster``: CSV (plain, gzip, bzip2, xz or
zstd), Parquet and Feather/Arrow IPC, told apart by their first bytes, not their names.

pyarrow is imported here only, when a table is read. A table is read whole into an array, or,
for a mini-batch fit, spooled to a raw file one Parquet row group (one Arrow record batch) at a
time and then read from there like a .npy file, so that no more than a row group is in memory.
CSV is parsed by pyarrow; the csv module re-reads a file only to explain what pyarrow refused
(the line, the column and the value) and for the rare files pyarrow's parser reads differently.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np

from lloyd._npy_rows import NpyRows, TableError, check_finite, check_magnitude, column_index

#: The delimiter and the header line are detected on the first this many bytes.
HEAD_BYTES = 65536
_NPY_MAGIC = b"\x93NUMPY"
#: First bytes -> (compression, Arrow codec, Python module) of the compressed CSV formats.
_COMPRESSED = {
    b"\x1f\x8b": ("gzip", "gzip", gzip),
    b"BZh": ("bzip2", "bz2", bz2),
    b"\xfd7zXZ\x00": ("xz", None, lzma),  # Arrow has no xz codec
    b"\x28\xb5\x2f\xfd": ("zstd", "zstd", None),
}
_NOT_A_TABLE = ("is not a UTF-8 text (CSV) file nor a .npy file, nor a Parquet or Feather "
                "(Arrow IPC) file")


@dataclass
class Table:
    """A table read whole: the columns to cluster as numbers, in memory."""

    name: str
    names: list
    X: np.ndarray = field(repr=False)

    @property
    def n_rows(self):
        return len(self.X)

    def close(self):
        """Nothing to release: the rows are in memory."""


@dataclass
class CsvTable(Table):
    """A CSV file read whole: the chosen ``columns`` (0-based) as numbers in ``X``; the file's
    own text is read again (:meth:`records`) to write it back with the labels."""

    header: list | None = None
    delimiter: str = ","
    columns: list = field(default_factory=list)
    source: _Source | None = field(default=None, repr=False)

    def records(self):
        """The file's data rows as lists of text fields, in order (blank lines skipped)."""
        with self.source.text() as text:
            records = _records(csv.reader(text, delimiter=self.delimiter))
            if self.header is not None:
                next(records)
            for _, fields in records:
                yield fields


class _Source:
    """A file (or the bytes of standard input) that can be opened again, decompressed."""

    def __init__(self, path, stdin=None):
        import pyarrow as pa

        self.pa = pa
        self.path = None if str(path) == "-" else os.fspath(path)
        self.name = "<stdin>" if self.path is None else str(path)
        self.data = None
        if self.path is None:
            stream = stdin if stdin is not None else sys.stdin
            stream = getattr(stream, "buffer", stream)
            data = stream.read()
            self.data = data.encode("utf-8") if isinstance(data, str) else data
        with self.raw() as f:
            self.magic = f.read(8)
        self.compression = next((v for k, v in _COMPRESSED.items() if self.magic.startswith(k)),
                                None)

    def raw(self):
        """The bytes as stored (a pyarrow NativeFile, memory-mapped for a file)."""
        if self.data is not None:
            return self.pa.BufferReader(self.data)
        return self.pa.OSFile(self.path)

    def open(self):
        """The bytes decompressed (a pyarrow input stream)."""
        if self.compression is None:
            return self.raw()
        _, codec, module = self.compression
        if codec is not None and self.pa.Codec.is_available(codec):
            return self.pa.CompressedInputStream(self.raw(), codec)
        if module is None:
            raise TableError(f"{self.name} is {self.compression[0]}-compressed, which this "
                             "pyarrow cannot read; decompress it first")
        raw = io.BytesIO(self.data) if self.data is not None else self.path
        return self.pa.PythonFile(module.open(raw, "rb"), mode="r")

    def text(self):
        """The decompressed bytes as UTF-8 text for the csv module."""
        return io.TextIOWrapper(self.open(), encoding="utf-8-sig", newline="")

    def head(self):
        """The first HEAD_BYTES bytes decompressed, as text cut after the last whole line, and
        whether that is the whole file."""
        with self.open() as f:
            data = f.read(HEAD_BYTES + 1)
        complete = len(data) <= HEAD_BYTES
        decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        try:
            text = decoder.decode(data[:HEAD_BYTES], final=complete)
        except UnicodeDecodeError:
            raise TableError(f"{self.name} {_NOT_A_TABLE}") from None
        if not complete and "\n" in text:
            text = text[:text.rindex("\n") + 1]
        return text, complete


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _records(reader):
    """(line number, fields) of the csv ``reader``'s rows, blank lines skipped."""
    for fields in reader:
        if fields and not (len(fields) == 1 and not fields[0].strip()):
            yield reader.line_num, fields


def read_csv(path, *, columns=None, stdin=None):
    """Read a CSV file (``'-'``: standard input) and the numeric columns to cluster.

    The file may be compressed with gzip, bzip2, xz or zstd (told by its first bytes). The
    delimiter (``, ; tab |``) and a header line are detected on its first 64 KiB: the first
    line is a header when a column is text there and a number in the next line, or when it is
    all text. pyarrow parses the file.

    Parameters
    ----------
    path : str or path-like
        The file, or ``'-'`` for standard input.
    columns : sequence of str, default=None
        The columns to cluster, by header name or 1-based position; None means every column,
        which must then all be numeric.
    stdin : file, default=None
        Read instead of ``sys.stdin`` for ``'-'`` (text or bytes).

    Returns
    -------
    table : CsvTable
        ``X`` has shape (n_rows, n_columns_chosen), float64.

    Raises
    ------
    TableError
        An empty file, a ragged row, a non-numeric or non-finite value in a chosen column,
        text columns when none were chosen, an unknown column.
    """
    return _read_csv(_Source(path, stdin), columns)


def _read_csv(source, columns):
    import pyarrow.csv as pa_csv

    name = source.name
    head, complete = source.head()
    # Blank lines are left out of the sample: between CRLF line ends they defeat the sniffer
    sample = "".join(line for line in head.splitlines(keepends=True) if line.strip())
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    first_two = []
    for record in _records(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)):
        first_two.append(record)
        if len(first_two) == 2:
            break
    if not first_two:
        raise TableError(f"{name} is empty: there are no rows to cluster")
    first = first_two[0][1]
    width = len(first)
    header = None
    if not all(_is_number(v) for v in first):
        second = first_two[1][1] if len(first_two) > 1 else None
        if (second is None or not any(_is_number(v) for v in first)
                or any(not _is_number(a) and _is_number(b) for a, b in zip(first, second))):
            header = [v.strip() for v in first]
    data_rows = first_two[1:] if header is not None else first_two
    if header is not None and not data_rows and complete:
        raise TableError(f"{name} has a header but no data rows: there are no rows to cluster")
    names = ([h or str(j + 1) for j, h in enumerate(header)] if header is not None
             else [str(j + 1) for j in range(width)])
    if columns is None:
        sample = data_rows[0][1] if data_rows else first
        text_columns = [j for j in range(min(width, len(sample))) if not _is_number(sample[j])]
        if text_columns:
            raise _not_numeric(name, names, text_columns)
        chosen = list(range(width))
    else:
        chosen = [column_index(c, names, name) for c in columns]

    internal = [f"c{j}" for j in range(width)]
    try:
        with source.open() as stream:
            table = pa_csv.read_csv(
                stream,
                read_options=pa_csv.ReadOptions(
                    column_names=internal, skip_rows=first_two[0][0] if header is not None else 0,
                    block_size=4 * 2**20),
                parse_options=pa_csv.ParseOptions(
                    delimiter=delimiter,
                    # today's rule: a line of spaces is a blank line, not a row of one field
                    invalid_row_handler=lambda row: "skip" if not row.text.strip() else "error"),
                convert_options=pa_csv.ConvertOptions(
                    include_columns=[internal[j] for j in dict.fromkeys(chosen)],
                    null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False),
            )
    except source.pa.ArrowInvalid:
        table = None  # a ragged row, bad UTF-8...: the csv module says where
    X = None if table is None else _numbers(table, [internal[j] for j in chosen])
    if X is None or not np.isfinite(X).all():
        X = _read_csv_slowly(source, delimiter, header is not None, chosen, names)
    if len(X) == 0:
        raise TableError(f"{name} has a header but no data rows: there are no rows to cluster"
                         if header is not None else f"{name} is empty: there are no rows to "
                         "cluster")
    check_magnitude(X, name)
    return CsvTable(name, [names[j] for j in chosen], X, header=header, delimiter=delimiter,
                    columns=chosen, source=source)


#: Arrow's names of its floating types, as numpy dtypes (its integer types share numpy's names).
_ARROW_FLOATS = {"halffloat": np.float16, "float": np.float32, "double": np.float64}


def _values(column):
    """A numeric Arrow column's values (chunked or not) as one numpy array, read straight from
    its data buffers when it has no nulls: pyarrow's own ``to_numpy`` imports pandas (0.4 s of a
    small table's run) on the way. With nulls, pyarrow's conversion (nulls become NaN)."""
    chunks = getattr(column, "chunks", [column])
    if column.null_count or not chunks:
        return column.to_numpy()
    parts = []
    for chunk in chunks:
        dtype = np.dtype(_ARROW_FLOATS.get(str(chunk.type), str(chunk.type)))
        data = np.frombuffer(chunk.buffers()[1], dtype=dtype)
        parts.append(data[chunk.offset: chunk.offset + len(chunk)])
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _numbers(table, columns):
    """The columns as one float64 array, or None when one is not all numbers."""
    import pyarrow as pa

    X = np.empty((table.num_rows, len(columns)))
    for out, name in enumerate(columns):
        column = table.column(name)
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            return None
        X[:, out] = _values(column)
    return X


def _read_csv_slowly(source, delimiter, has_header, chosen, names):
    """The chosen columns read by the csv module: for files pyarrow refused or read as text,
    this names the first bad line, column and value (or reads what pyarrow could not)."""
    name = source.name
    X = []
    try:
        with source.text() as text:
            records = _records(csv.reader(text, delimiter=delimiter))
            first_line, width = None, len(names)
            for line, fields in records:
                if first_line is None:
                    first_line = line
                    if has_header:
                        continue
                if len(fields) != width:
                    raise TableError(
                        f"{name}, line {line}: {len(fields)} fields where line {first_line} "
                        f"has {width}; every row needs the same number of fields"
                    )
                row = []
                for j in chosen:
                    try:
                        value = float(fields[j])
                    except ValueError:
                        raise TableError(f"{name}, line {line}, column {names[j]!r}: "
                                         f"{fields[j]!r} is not a number") from None
                    if not np.isfinite(value):
                        raise TableError(
                            f"{name}, line {line}, column {names[j]!r}: {fields[j]!r} is not a "
                            "finite number; k-means needs one in every cell"
                        )
                    row.append(value)
                X.append(row)
    except UnicodeDecodeError:
        raise TableError(f"{name} {_NOT_A_TABLE}") from None
    return np.array(X, dtype=np.float64).reshape(len(X), len(chosen))


def _not_numeric(name, names, text_columns):
    numeric = [names[j] for j in range(len(names)) if j not in text_columns]
    hint = f", e.g. --columns {','.join(numeric)}" if numeric else ""
    listed = ", ".join(repr(names[j]) for j in text_columns)
    plural = len(text_columns) > 1
    return TableError(
        f"{name}: column{'s' if plural else ''} {listed} {'are' if plural else 'is'} not "
        f"numeric; choose the columns to cluster with --columns{hint}"
    )


# ---------------------------------------------------------------------- Parquet, Feather


class _ArrowFile:
    """A Parquet or Arrow IPC (Feather) file as a schema and a sequence of record batches
    (Parquet: one per row group), read one at a time."""

    def __init__(self, source, kind):
        import pyarrow.ipc as ipc
        import pyarrow.parquet as pq

        self.kind = kind
        self.source = source
        if kind == "Parquet":
            self.file = pq.ParquetFile(source.raw())
            self.schema = self.file.schema_arrow
        elif kind == "Feather":
            self.file = ipc.open_file(source.raw())
            self.schema = self.file.schema
        else:  # an Arrow IPC stream: the schema comes first, then the batches
            self.file = None
            with ipc.open_stream(source.raw()) as reader:
                self.schema = reader.schema

    def batches(self, columns):
        """The record batches (or tables), in order, of the columns named ``columns``."""
        import pyarrow.ipc as ipc

        if self.kind == "Parquet":
            for i in range(self.file.num_row_groups):  # one row group in memory at a time
                yield self.file.read_row_group(i, columns=columns)
        elif self.kind == "Feather":
            for i in range(self.file.num_record_batches):
                yield self.file.get_batch(i).select(columns)
        else:
            with ipc.open_stream(self.source.raw()) as reader:
                for batch in reader:
                    yield batch.select(columns)


def _read_arrow(source, kind, columns, stream):
    """A Parquet or Feather file's chosen columns: a Table, or (``stream``) an NpyRows over a
    spool written one row group at a time."""
    import pyarrow as pa

    name = source.name
    try:
        arrow = _ArrowFile(source, kind)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TableError(f"{name} is not a readable {kind} file: {exc}") from None
    names = [str(n) or str(j + 1) for j, n in enumerate(arrow.schema.names)]
    numeric = [_is_numeric(arrow.schema.field(j).type) for j in range(len(names))]
    if columns is None:
        if not any(numeric) or not all(numeric):
            raise _not_numeric(name, names, [j for j, ok in enumerate(numeric) if not ok])
        chosen = list(range(len(names)))
    else:
        chosen = [column_index(c, names, name) for c in columns]
        for j in chosen:
            if not numeric[j]:
                raise TableError(
                    f"{name}, column {names[j]!r} holds {arrow.schema.field(j).type} values; "
                    "k-means needs numbers (integers or floats)"
                )
    if not chosen:
        raise TableError(f"{name} has no columns: there is nothing to cluster")
    types = [arrow.schema.field(j).type for j in chosen]
    dtype = np.float32 if all(t == pa.float32() for t in types) else np.float64
    selected = [arrow.schema.names[j] for j in chosen]
    spool = _Spool(name, dtype, [names[j] for j in chosen]) if stream else None
    parts, start = [], 0
    try:
        for batch in arrow.batches(selected):
            rows = _batch_rows(batch, dtype, name, [names[j] for j in chosen], start)
            start += len(rows)
            if spool is not None:
                spool.write(rows)
            else:
                parts.append(rows)
    except pa.ArrowException as exc:
        if spool is not None:
            spool.discard()
        raise TableError(f"{name} is not a readable {kind} file: {exc}") from None
    except BaseException:
        if spool is not None:
            spool.discard()
        raise
    if start == 0:
        if spool is not None:
            spool.discard()
        raise TableError(f"{name} has no rows: there are no rows to cluster")
    if spool is not None:
        return spool.rows()
    X = parts[0] if len(parts) == 1 else np.concatenate(parts)
    check_finite(X, name)
    return Table(name, [names[j] for j in chosen], X)


def _is_numeric(arrow_type):
    import pyarrow as pa

    return (pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
            or pa.types.is_boolean(arrow_type) or pa.types.is_decimal(arrow_type))


def _batch_rows(batch, dtype, name, names, start):
    """A record batch's columns as one C-ordered ``dtype`` array; a missing value (null) is an
    error naming its row (``start``: the batch's first row, from 0) and column."""
    import pyarrow as pa

    rows = np.empty((batch.num_rows, batch.num_columns), dtype=dtype)
    for j in range(batch.num_columns):
        column = batch.column(j)
        if column.null_count:
            bad = int(np.argmax(column.is_null().to_numpy(zero_copy_only=False)))
            raise TableError(
                f"{name}, row {start + bad + 1}, column {names[j]!r}: the value is missing "
                "(null); k-means needs a number in every cell"
            )
        if not pa.types.is_floating(column.type):
            column = column.cast(pa.float64())
        rows[:, j] = _values(column)
    return rows


class _Spool:
    """Rows written to a raw file in a temporary folder, then read back as :class:`NpyRows`
    (removed with the folder when the rows are closed)."""

    def __init__(self, name, dtype, names):
        self.name, self.dtype, self.names = name, np.dtype(dtype), names
        self.folder = tempfile.mkdtemp(prefix="lloyd-rows-")
        self.path = os.path.join(self.folder, "rows.bin")
        self.file = open(self.path, "wb")
        self.n_rows = 0

    def write(self, rows):
        if len(rows) == 0:
            return
        self.file.write(memoryview(np.ascontiguousarray(rows, dtype=self.dtype)).cast("B"))
        self.n_rows += len(rows)

    def discard(self):
        self.file.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def rows(self):
        self.file.close()
        rows = _SpooledRows._from_raw(self.path, name=self.name, dtype=self.dtype,
                                      shape=(self.n_rows, len(self.names)), names=self.names)
        rows.folder = self.folder
        return rows


class _SpooledRows(NpyRows):
    """NpyRows over a spool; :meth:`close` deletes it."""

    def close(self):
        shutil.rmtree(self.folder, ignore_errors=True)


# ---------------------------------------------------------------------- any table


def open_table(data, *, columns=None, stdin=None, stream=False):
    """The table in ``data``: a Table (read whole), or an NpyRows (read on demand) for a .npy
    file, or for a Parquet or Feather file when ``stream``.

    The format is told by the first bytes, whatever the name: .npy, Parquet, Feather (Arrow
    IPC file or stream), else CSV (perhaps compressed). Close the table when done with it.

    Raises
    ------
    TableError
        A file that is not a table of numbers (see :func:`read_csv` and :class:`NpyRows`).
    OSError
        A file that cannot be read.
    """
    if str(data) != "-":
        with open(data, "rb") as f:
            magic = f.read(8)
        if magic.startswith(_NPY_MAGIC):
            return NpyRows(data, columns=columns)
    source = _Source(data, stdin)
    kind = _arrow_kind(source.magic)
    if kind == "Feather V1":
        raise TableError(f"{source.name} is a Feather V1 file, a format Arrow has deprecated; "
                         "write it again as Feather (V2) or Parquet")
    if kind is not None:
        return _read_arrow(source, kind, columns, stream)
    if source.compression is None:
        return _read_csv(source, columns)
    try:
        return _read_csv(source, columns)
    except (OSError, EOFError, lzma.LZMAError) as exc:  # what each decompressor raises
        raise TableError(f"{source.name}: its {source.compression[0]} data is truncated or "
                         f"corrupt ({exc})") from None


def _arrow_kind(magic):
    if magic.startswith(b"PAR1"):
        return "Parquet"
    if magic.startswith(b"ARROW1"):
        return "Feather"
    if magic.startswith(b"FEA1"):
        return "Feather V1"
    if magic.startswith(b"\xff\xff\xff\xff"):
        return "Arrow IPC stream"
    return None
