"""GET /export: a checkpoint's layout with its point metadata, as CSV or NPZ.

The table is `analysis.point_table.PointTable`; this module only encodes it
and names the file. The CSV is RFC 4180 (a header row, CRLF line ends, a field
quoted where it holds a comma, a quote or a line break, quotes doubled), UTF-8,
written and sent `CSV_CHUNK_ROWS` rows at a time, so an answer holds one chunk
whatever the checkpoint's size. Numbers are written as the shortest text that
reads back as the same float32 (`str` of a numpy float32), so `x`, `y` and
`confidence` survive a round trip exactly. Text is written as logged: a token
that starts with `=`, `+`, `-` or `@` stays so (a notebook must read back what
was logged) unless `formulas=escape` asks for the spreadsheet-safe form, which
prefixes such text with `'` (OWASP's advice against CSV injection). The NPZ
holds one array per column (numbers in their dtype, text as numpy unicode) and
loads with `np.load(..., allow_pickle=False)`; it is written to a temporary
file and streamed from there.
"""

import csv
import io
import re
import tempfile

import numpy as np

from tb_rnn_hidden.analysis import point_table
from tb_rnn_hidden.server import requests

FORMATS = ("csv", "npz")
FORMULA_MODES = ("keep", "escape")
CSV_CHUNK_ROWS = 1 << 16
FILE_CHUNK_BYTES = 1 << 20
# The most an NPZ may take (its text columns are 4 bytes per character of their longest value).
NPZ_MAX_BYTES = 1 << 30
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TEXT_COLUMNS = ("token", "label_name", "prediction_name")


def of_checkpoint(checkpoint, coords):
    """The `PointTable` of a reader checkpoint (server/reader.py) laid out at `coords`."""
    header = checkpoint.header
    tokens = header["has_tokens"]
    return point_table.PointTable(
        lengths=checkpoint.lengths, coords=coords,
        token_ids=checkpoint.token_ids if tokens else None,
        vocabulary=checkpoint.vocabulary if tokens else None,
        labels=checkpoint.labels if header["has_labels"] else None,
        probabilities=checkpoint.probabilities if header["has_probabilities"] else None,
        class_names=header.get("class_names"),
    )


def file_name(run, tag, step, params, extension):
    """`rnn_hidden-<run>-<tag>-step<step>-<method>.<ext>`: characters a file system or a
    header may refuse become "_" (as the tab's `fileName` does)."""
    parts = ["rnn_hidden", run, tag, "step%d" % step, params.method]
    stem = "-".join(p for p in (re.sub(r"[^A-Za-z0-9._-]+", "_", str(part)) for part in parts) if p)
    return "%s.%s" % (stem, extension)


def escape_formula(text):
    """`text` as a spreadsheet shows it as text: a leading `'` where it would start a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_chunks(table, formulas="keep"):
    """The CSV of `table` as UTF-8 `bytes` chunks: the header, then `CSV_CHUNK_ROWS` rows each."""
    names = table.names
    yield _csv_text([names]).encode("utf-8")
    for start in range(0, table.num_points, CSV_CHUNK_ROWS):
        columns = table.columns(start, min(start + CSV_CHUNK_ROWS, table.num_points))
        texts = [_column_text(name, columns[name], formulas) for name in names]
        yield _csv_text(zip(*texts)).encode("utf-8")


def _csv_text(rows):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buffer.getvalue()


def _column_text(name, column, formulas):
    if name in _TEXT_COLUMNS:
        return [escape_formula(t) for t in column] if formulas == "escape" else column
    if column.dtype.kind == "f":
        return [str(value) for value in column]  # numpy's shortest float32 round trip
    return column.tolist()


def npz_bytes_estimate(table):
    """What `npz_file` writes, roughly: every column's array."""
    points = table.num_points
    total = 0
    for name in table.names:
        width = table.text_width(name) if name in _TEXT_COLUMNS else 1
        total += points * 4 * max(1, width)
    return total


def npz_file(table):
    """A temporary file holding `np.savez` of every column, rewound; the caller closes it.
    413 when it would exceed `NPZ_MAX_BYTES` (the CSV has no such bound: it is streamed)."""
    estimate = npz_bytes_estimate(table)
    if estimate > NPZ_MAX_BYTES:
        raise requests.PayloadTooLarge(
            "format=npz of these %d points would take ~%d MiB, over the %d MiB this server "
            "writes; expected format=csv, which is streamed"
            % (table.num_points, estimate >> 20, NPZ_MAX_BYTES >> 20))
    columns = table.columns()
    arrays = {name: (np.asarray(column, dtype=str) if name in _TEXT_COLUMNS else column)
              for name, column in columns.items()}
    out = tempfile.TemporaryFile()
    try:
        np.savez(out, **arrays)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out


class Body:
    """A WSGI body of `bytes` chunks that runs `on_close` once, when sent or abandoned
    (as `requests._ArrayChunks`: a server that never calls close() must not leak a slot)."""

    def __init__(self, chunks, on_close):
        self._chunks = chunks
        self._on_close = on_close

    def __iter__(self):
        try:
            yield from self._chunks
        finally:
            self.close()

    def close(self):
        on_close, self._on_close = self._on_close, None
        chunks, self._chunks = self._chunks, ()
        close_chunks = getattr(chunks, "close", None)
        if close_chunks is not None:
            close_chunks()
        if on_close is not None:
            on_close()

    def __del__(self):
        self.close()


def _file_chunks(file):
    try:
        while True:
            chunk = file.read(FILE_CHUNK_BYTES)
            if not chunk:
                return
            yield chunk
    finally:
        file.close()


def response(request, table, export_format, name, formulas="keep", on_close=None):
    """The answer of GET /export: the CSV or NPZ of `table` as the attachment `name`."""
    headers = [
        ("Content-Disposition", 'attachment; filename="%s"' % name),
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-cache, must-revalidate"),
        ("X-Export-Columns", ",".join(table.names)),
        ("X-Export-Rows", str(table.num_points)),
    ]
    if export_format == "csv":
        content_type = "text/csv; charset=utf-8"
        chunks = csv_chunks(table, formulas)
    else:
        content_type = "application/zip"  # an NPZ is a zip of .npy files
        chunks = ()
        if request.method != "HEAD":
            file = npz_file(table)
            file.seek(0, 2)
            headers.append(("Content-Length", str(file.tell())))
            file.seek(0)
            chunks = _file_chunks(file)
    return requests.streamed_response(request, Body(chunks, on_close), headers, content_type)
