"""Progress of long loops on stderr: a tqdm bar in a terminal, one plain status line at most every ``every_s``
seconds otherwise (CI logs, ``nohup``, the benchmark runner), so a log never holds bar redraws nor long silences."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

LINE = "{desc}: {n_fmt}/{total_fmt} {unit} [{elapsed} elapsed, {remaining} left, {rate_fmt}{postfix}]"


class LineWriter:
    """A file for tqdm that writes each refresh as its own line (tqdm redraws with ``\\r``), repeats skipped.

    Args:
        stream: where the lines go.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.last = stream, ""

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line and line != self.last:
            self.stream.write(line + "\n")
            self.last = line

    def flush(self) -> None:
        self.stream.flush()


def progress_bar(total: int | None, desc: str, unit: str = "it", every_s: float = 30.0, disable: bool = False,
                 iterable: Iterable | None = None) -> tqdm:
    """A tqdm bar on stderr; when stderr is not a terminal, status lines at most ``every_s`` seconds apart.

    Args:
        total: the expected number of updates (``None``: unknown).
        desc: what is being done (the line's prefix).
        unit: what one update counts.
        every_s: seconds between status lines when stderr is not a terminal.
        disable: show nothing (e.g. on ranks other than 0).
        iterable: what to iterate over while counting (``None``: count with ``update``).
    """
    stream, common = sys.stderr, {"total": total, "desc": desc, "unit": unit, "disable": disable}
    if stream.isatty():
        return tqdm(iterable, file=stream, dynamic_ncols=True, **common)
    return tqdm(iterable, file=LineWriter(stream), mininterval=every_s, maxinterval=every_s, bar_format=LINE, **common)


@contextmanager
def transformers_bars_in_terminals_only() -> Iterator[None]:
    """Turn ``transformers``' own progress bars ("Loading weights", "Writing model shards") off while stderr is not a
    terminal: they redraw with ``\r``, which a log keeps as one long line of frames. Restores the previous setting on
    exit."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    if enabled and not sys.stderr.isatty():
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()
