"""Outputs that several processes may share: per-process temporary names, atomic replacement, file locks.

- :func:`temp_path`: a name beside a target that no other process (or host) picks at the same time.
- :func:`write_text`: a text file written to such a name and ``os.replace``\\ d into place.
- :func:`staged_folder`: a folder built under such a name and renamed into place in one step, refusing an
  occupied target: readers see either no folder or a complete one, and two writers never mix their files.
- :func:`locked`: an exclusive :class:`filelock.FileLock` (as Hugging Face ``datasets`` uses), waiting or refusing.
- :func:`once`: make a folder unless complete, under a lock, so that concurrent callers wait and share the result.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)


class FolderBusyError(RuntimeError):
    """A shared output that another process holds the lock of (:func:`locked` with ``wait=False``)."""


def temp_path(target: str | Path) -> Path:
    """``<dir>/.<name>.tmp-<host>-<pid>-<random>`` beside ``target``: unique per host, process and call."""
    target = Path(target)
    return target.with_name(f".{target.name}.tmp-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}")


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a :func:`temp_path` and ``os.replace``; the temp never outlives an error.

    Args:
        path: the file to write (its folder is created).
        text: the content, written as UTF-8.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _occupied(path: Path) -> bool:
    return path.is_file() or path.is_symlink() or (path.is_dir() and any(path.iterdir()))


@contextmanager
def staged_folder(out: str | Path, describe: Callable[[Path], str] = lambda out: "") -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``out``; on success rename it to ``out`` in one step.

    ``out`` must be absent or an empty folder, checked before and again at the rename (``FileExistsError``
    naming ``out`` and what ``describe`` finds there). On any error, or when another process filled ``out``
    first, the temporary folder is removed.

    Args:
        out: the final folder.
        describe: what occupies ``out`` (e.g. the manifest found there), for the refusal message.
    """
    out = Path(out).resolve()

    def refuse() -> FileExistsError:
        return FileExistsError(f"{out}: already exists and is not empty{describe(out)}; not overwritten (remove it or "
                               "choose another folder)")

    if _occupied(out):
        raise refuse()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(out)
    tmp.mkdir()
    try:
        yield tmp
        try:
            os.rename(tmp, out)  # atomic; replaces only an absent or empty folder
        except OSError as err:
            if err.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise refuse() from err
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # best effort: the error being raised is the one that matters
        raise


@contextmanager
def locked(path: str | Path, what: str, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive file lock on ``path`` (created, with its folder) for the ``with`` block.

    A lock held by another process is waited for (with a warning naming ``what``), or with ``wait=False``
    refused with a :class:`FolderBusyError` naming the lock file.

    Args:
        path: the lock file.
        what: what the lock guards, for the messages.
        wait: wait for another holder (True) or refuse at once (False).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise FolderBusyError(f"{what} is in use by another process (lock {path}); wait for it to finish, or "
                               "use another folder") from None
        log.warning("waiting for another process using %s (lock %s)", what, path)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def once(out: str | Path, marker: str, make: Callable[[], object]) -> None:
    """Call ``make`` (which creates ``out`` with ``out / marker`` written last) unless ``out / marker`` exists.

    The check and ``make`` run under the lock ``.<out name>.lock`` beside ``out``: a concurrent caller waits, then
    finds the marker and reuses the folder. A complete folder is used without taking the lock (read-only places).

    Args:
        out: the folder.
        marker: a file that ``make`` writes last in ``out``.
        make: creates ``out``.
    """
    out = Path(out)
    if (out / marker).is_file():
        return
    with locked(out.with_name(f".{out.name}.lock"), f"{out}"):
        if not (out / marker).is_file():
            make()
