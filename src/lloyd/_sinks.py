"""What ``lloyd cluster`` writes: labels and centres as .npy, Parquet, Feather or CSV, each
file written atomically and never over an existing one unless asked.

The format follows the output's extension: ``.npy``; ``.parquet``/``.pq``; ``.feather``,
``.arrow`` or ``.ipc`` (Arrow IPC file); anything else is CSV. pyarrow is imported only to
write Parquet or Feather.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from lloyd._files import atomic_output as _atomic_output

_PARQUET = (".parquet", ".pq")
_FEATHER = (".feather", ".arrow", ".ipc")


def output_format(path):
    """``'npy'``, ``'parquet'``, ``'feather'`` or ``'csv'``, from ``path``'s extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        return "npy"
    if suffix in _PARQUET:
        return "parquet"
    if suffix in _FEATHER:
        return "feather"
    return "csv"


def check_outputs(paths, *, force=False):
    """Fail before any work when an output exists (without ``force``) or its folder does not.

    Raises
    ------
    ValueError
        Two outputs name the same file.
    FileExistsError
        An output exists and ``force`` is False.
    FileNotFoundError
        An output's folder does not exist.
    """
    paths = [Path(p) for p in paths if p is not None]
    if len({p.resolve() for p in paths}) < len(paths):
        raise ValueError(f"two outputs name the same file ({', '.join(map(str, paths))})")
    for path in paths:
        if path.exists() and not force:
            raise FileExistsError(f"{path} already exists; use --force to replace it")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")


def atomic_output(path, *, force=False):
    """lloyd's atomic write (``lloyd._files.atomic_output``) with this module's wording."""
    return _atomic_output(path, overwrite=force)


def write_csv(path, header, rows, *, delimiter=",", force=False):
    """Rows (iterables of values) as CSV, after a ``header`` line unless it is None."""
    with atomic_output(path, force=force) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
            if header is not None:
                writer.writerow(header)
            writer.writerows(rows)


def write_array(path, array, names, *, force=False):
    """A 2-D array (the centres) as .npy, or a table with the columns ``names``."""
    kind = output_format(path)
    if kind == "npy":
        with atomic_output(path, force=force) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, array)
    elif kind == "csv":
        write_csv(path, names, array.tolist(), force=force)
    else:
        import pyarrow as pa

        _write_arrow(path, pa.table({n: array[:, j] for j, n in enumerate(names)}), kind,
                     force=force)


def write_labels(table, labels, path, *, force):
    """Labels of rows held in memory. .npy: int32; Parquet/Feather: one int32 ``cluster``
    column; CSV: for a CSV input its rows with a ``cluster`` column added (same delimiter and
    header), otherwise one ``cluster`` column."""
    labels = np.asarray(labels, dtype=np.int32)
    kind = output_format(path)
    if kind == "npy":
        write_array(path, labels, None, force=force)
    elif kind != "csv":
        import pyarrow as pa

        _write_arrow(path, pa.table({"cluster": labels}), kind, force=force)
    elif getattr(table, "records", None) is not None:
        header = None
        if table.header is not None:
            column = "cluster"
            while column in table.header:
                column = "_" + column
            header = [*table.header, column]
        rows = ([*fields, label] for fields, label in zip(table.records(), labels.tolist(),
                                                         strict=True))
        write_csv(path, header, rows, delimiter=table.delimiter, force=force)
    else:
        write_csv(path, ["cluster"], ([v] for v in labels.tolist()), force=force)


def _write_arrow(path, table, kind, *, force):
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    with atomic_output(path, force=force) as tmp:
        if kind == "parquet":
            pq.write_table(table, tmp)
        else:
            feather.write_feather(table, tmp)


class LabelSink:
    """Labels written as they are computed, slice by slice, to the temporary file ``tmp`` of
    the output ``final``: .npy through np.lib.format.open_memmap (re-opened for each slice so
    that written pages leave the process), Parquet or Feather one record batch per slice, or a
    one-column CSV."""

    def __init__(self, tmp, final, n_rows):
        self.tmp = Path(tmp)
        self.kind = output_format(final)
        self.file = self.writer = None
        if self.kind == "npy":
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.int32, shape=(n_rows,))
            del out
        elif self.kind == "csv":
            self.file = open(tmp, "w", encoding="utf-8", newline="")
            self.file.write("cluster\n")
        else:
            import pyarrow as pa
            import pyarrow.ipc as ipc
            import pyarrow.parquet as pq

            schema = pa.schema([("cluster", pa.int32())])
            self.writer = (pq.ParquetWriter(tmp, schema) if self.kind == "parquet"
                           else ipc.new_file(str(tmp), schema))

    def write(self, start, labels):
        """Write the labels of rows ``start``, ``start + 1``, ... (in order)."""
        labels = np.asarray(labels, dtype=np.int32)
        if self.kind == "npy":
            out = np.lib.format.open_memmap(self.tmp, mode="r+")
            out[start:start + len(labels)] = labels
            out.flush()
            del out
        elif self.kind == "csv":
            self.file.write("\n".join(map(str, labels.tolist())) + "\n")
        else:
            import pyarrow as pa

            self.writer.write_table(pa.table({"cluster": labels}))

    def close(self):
        if self.file is not None:
            self.file.close()
        if self.writer is not None:
            self.writer.close()
