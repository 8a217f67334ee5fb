"""Lightning checkpoints written atomically beside their final name, on any filesystem, and read without running
code from them.

Lightning's own ``TorchCheckpointIO`` stages a file in ``$TMPDIR`` and moves it; when the run folder is on another
filesystem (NFS or Lustre runs with a local ``/tmp``) the move is a copy, so a kill or a full disk leaves a partial
file under the final name and an orphan in ``$TMPDIR``. ``lit-jepa fit`` uses :class:`AtomicCheckpointIO`.
Resuming (``--ckpt_path``) reads with ``weights_only=True`` and lit_jepa's own classes allowed
(``lit_jepa.hub.SAFE_GLOBALS``); ``--weights_only false`` is the opt-in for a file you trust.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.fabric.utilities.cloud_io import _is_local_file_protocol

from lit_jepa.atomic import atomic_save
from lit_jepa.hub import SAFE_GLOBALS, read_error

log = logging.getLogger(__name__)


class AtomicCheckpointIO(TorchCheckpointIO):
    """``TorchCheckpointIO`` whose local saves go through :func:`lit_jepa.atomic.atomic_save` (a temporary
    ``<dir>/.<name>.tmp``, fsync, ``os.replace``); remote URLs keep Lightning's behaviour. The first save into a
    folder removes the temporary files that killed earlier runs left there. Loads are safe by default (module
    docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._cleaned: set[Path] = set()

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or not _is_local_file_protocol(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        folder = Path(path).parent
        if folder not in self._cleaned:
            for orphan in folder.glob(".*.ckpt.tmp"):
                log.info("removing %s, left by an interrupted checkpoint write", orphan)
                orphan.unlink(missing_ok=True)
            self._cleaned.add(folder)
        atomic_save(checkpoint, path)

    def load_checkpoint(self, path: Any, map_location: Any = lambda storage, loc: storage,
                        weights_only: bool | None = None) -> dict[str, Any]:
        safe = weights_only is not False
        try:
            with torch.serialization.safe_globals(SAFE_GLOBALS):
                return super().load_checkpoint(path, map_location, safe)
        except pickle.UnpicklingError as err:
            raise read_error(path, err) from err
