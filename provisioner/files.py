"""Portable file handling for files that hold pupil data or secrets.

Files are written atomically (a temporary file in the same folder, flushed, then renamed
over the target), so a crash leaves either the old file or the new one, never half of one.
On POSIX they are created owner-only; on Windows chmod cannot express owner-only, so a file
takes the access list of the workspace folder, which ``owner_only`` makes the owner's alone.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from provisioner.errors import UsageError
from provisioner.faults import crashpoint

POSIX = os.name == "posix"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")


def make_private_dir(path: Path) -> Path:
    make_missing_dirs(path)
    if POSIX:
        path.chmod(0o700)
    return path


def make_missing_dirs(path: Path) -> None:
    """Make the folders of ``path`` that are missing, each owner-only (an outbox or reports folder
    the admin deleted comes back private, not readable by every user); folders already there
    are left as they are."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
        if POSIX:
            folder.chmod(0o700)


def make_private(path: Path) -> None:
    if POSIX:
        path.chmod(0o600)


def create_private(path: Path) -> None:
    """Create an empty owner-only file (SQLite's -wal and -shm files copy its mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def is_private(path: Path) -> bool:
    """True where the file cannot be read by group or others (always true off POSIX)."""
    if not POSIX:
        return True
    return not path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def remove_tree(path: Path) -> None:
    """Remove a file, or a folder and everything in it."""
    if path.is_dir():
        for child in path.iterdir():
            remove_tree(child)
        path.rmdir()
    else:
        path.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    make_missing_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        make_private(tmp)
        crashpoint("temporary-written")  # the whole file in its temporary, not yet in place
        try:
            os.replace(tmp, path)
        except PermissionError:
            # On Windows a file open in Excel cannot be replaced.
            raise UsageError(
                f"cannot replace {path}: another program has it open",
                hint="close it (in Excel, for example) and run the same command again",
            ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if POSIX:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def remove_stale_temporaries(folder: Path, names: str = "*") -> None:
    """Half-written files of a run killed mid-write: ``atomic_write_bytes`` writes under a dot
    name and renames, so a kill leaves the dot name behind. ``names``: whose, as a glob."""
    for leftover in folder.glob(f".{names}.tmp-*"):
        leftover.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def replace_small_file(path: Path, data: bytes) -> None:
    """A small owner-only file rewritten after every change (the audit log's head), replaced by a
    rename but not flushed to disk: a power cut leaves the one before, which is harmless there."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        make_private(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def neutralise(value: object) -> str:
    """A cell value that a spreadsheet program will show as text, never run as a formula.

    OWASP's CSV-injection advice: prefix a value starting with = + - @ TAB CR or NUL with a
    single quote. Used for every file a person may open in Excel.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, encoding: str = "utf-8",
              delimiter: str = ",", quote_all: bool = True) -> bytes:
    """CSV text, every field neutralised, CRLF line ends as Excel writes them.

    By default UTF-8 without a byte-order mark with every field quoted, as School Data Sync
    takes it; an import file passes its platform's settings (``"utf-8-sig"`` gives the mark
    Excel needs to show accents). Neutralising never depends on them: a value that would
    start a formula is made text whatever the delimiter or quoting.
    """
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, CSV_CHUNK)):
        if _plain_text(itertools.chain.from_iterable(chunk)):
            writer.writerows(chunk)
        else:
            for row in chunk:
                writer.writerow(row if _plain_text(row) else [neutralise(v) for v in row])
    return buffer.getvalue().encode(encoding)


_TRIGGERS = itertools.repeat(FORMULA_TRIGGERS)
# Rows are checked and written a thousand at a time: a chunk of plain text (nearly every one)
# goes to the csv module in one call; a chunk with a cell to neutralise is written row by row.
CSV_CHUNK = 1000


def _plain_text(cells: Iterable[object]) -> bool:
    """Whether cells (a row's, or a chunk of rows') are all text that starts no formula, so they
    are written as they are: checked in a call or two, not one per cell (a School Data Sync
    upload is four files of a trust's pupils)."""
    try:
        return not any(map(str.startswith, cells, _TRIGGERS))
    except TypeError:  # a number or an empty cell: neutralised cell by cell
        return False


def csv_rows(data: bytes, *, delimiter: str = ",") -> list[list[str]]:
    """The rows of a CSV file this tool wrote (UTF-8, with or without a byte-order mark)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))
