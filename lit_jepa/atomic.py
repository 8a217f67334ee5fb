"""Atomic file writes on any filesystem: a reader sees the old file or the new one, never half of one.

:func:`atomic_open` writes into a file beside the target (so the final rename never crosses filesystems, unlike
a temporary file in ``$TMPDIR``), fsyncs it, then ``os.replace``-s it over the target. The temporary file
is ``<dir>/.<name>.tmp``: it is removed on any error (``KeyboardInterrupt`` included); after a ``kill -9`` it is
replaced by the next write of the same file (and :class:`lit_jepa.checkpoint_io.AtomicCheckpointIO` removes
those of earlier runs from a checkpoint folder). A full disk raises
``OSError(ENOSPC, "No space left on device: PATH")`` with the temporary file removed.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

PathLike = str | os.PathLike


def temp_path(path: PathLike) -> Path:
    """The named temporary file of ``path``: ``<dir>/.<name>.tmp``."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp")


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
