"""Files and folders that appear complete or not at all, on any filesystem, and outputs several processes share.

- :func:`atomic_path` / :func:`atomic_open` / :func:`atomic_save` / :func:`atomic_write_text` /
  :func:`atomic_write_json`: write into a :func:`temp_path` beside the target (so the final rename never crosses
  filesystems, unlike a temporary file in ``$TMPDIR``), fsync it, then ``os.replace`` it over the target. The
  temporary file is removed on any error (``KeyboardInterrupt`` included); after a ``kill -9`` it stays as a
  hidden ``.<name>.tmp-...`` file (:class:`lit_jepa.checkpoint_io.AtomicCheckpointIO` removes those of earlier
  runs from a checkpoint folder). A full disk raises ``OSError(ENOSPC, "No space left on device: PATH")``.
- :func:`staged_folder`: a folder built under a temporary name and renamed into place in one step, refusing an
  occupied target: readers see either no folder or a complete one, and two writers never mix their files.
- :func:`locked`: an exclusive :class:`filelock.FileLock` (as Hugging Face ``datasets`` uses), waiting or refusing.
- :func:`once`: make a folder unless complete, under a lock, so that concurrent callers wait and share the result.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from filelock import FileLock, Timeout

PathLike = str | os.PathLike
log = logging.getLogger(__name__)


class FolderBusyError(RuntimeError):
    """A shared output that another process holds the lock of (:func:`locked` with ``wait=False``)."""


def temp_path(target: PathLike) -> Path:
    """``<dir>/.<name>.tmp-<host>-<pid>-<random>`` beside ``target``: unique per host, process and call."""
    target = Path(target)
    return target.with_name(f".{target.name}.tmp-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}")


def _no_space(err: BaseException | None, folder: Path) -> bool:
    while err is not None:
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            return True
        # torch's zip writer reports a short write as "unexpected pos ..." and drops the OSError: check the disk
        if isinstance(err, RuntimeError) and "unexpected pos" in str(err):
            return os.statvfs(folder).f_bavail == 0
        err = err.__cause__ or err.__context__
    return False


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot fsync a folder; the rename itself is still atomic
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield the temporary file to write by name; when the block ends it becomes ``path`` (see the module
    docstring).

    Args:
        path: the final file; its folder is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as err:
        full = _no_space(err, path.parent)
        tmp.unlink(missing_ok=True)
        if full:
            raise OSError(errno.ENOSPC, f"No space left on device: {path}") from err
        raise
    _fsync_folder(path.parent)


@contextmanager
def atomic_open(path: PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that it appears complete or not at all.

    Args:
        path: the final file.
        mode: ``"wb"`` or ``"w"``.
    """
    with atomic_path(path) as tmp, open(tmp, mode, encoding=None if "b" in mode else "utf-8") as f:
        yield f


def atomic_save(obj: Any, path: PathLike) -> Path:
    """``torch.save(obj)`` to ``path`` atomically.

    Args:
        obj: anything ``torch.save`` writes.
        path: the final file.
    """
    import torch

    with atomic_open(path) as f:
        torch.save(obj, f)
    return Path(path)


def atomic_write_text(path: PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8).

    Args:
        path: the final file.
        text: its content.
    """
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def atomic_write_json(path: PathLike, obj: Any, **dumps: Any) -> Path:
    """Write ``obj`` as JSON (with a final newline) to ``path`` atomically.

    Args:
        path: the final file.
        obj: a JSON-serialisable object.
        dumps: keyword arguments of ``json.dumps`` (``indent``, ``default``, ...).
    """
    return atomic_write_text(path, json.dumps(obj, **dumps) + "\n")


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
