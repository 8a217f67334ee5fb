"""Benchmark run records: one JSON file per run, with everything needed to trust and reproduce a number.

A record holds the run's metrics, the protocol and selection rule behind them, the checkpoint's sha256, the
git sha, library versions, the machine, wall time, peak memory and seed. ``params_hash`` identifies the
run's configuration (its params and the sha256 of the checkpoints of earlier runs it uses): a finished record
with the same hash is not run again.
"""

from __future__ import annotations

import hashlib
import json
import platform
import resource
import subprocess
import time
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine

SCHEMA_VERSION = 1
REQUIRED = ("schema", "suite", "name", "kind", "params", "params_hash", "status", "metrics", "protocol",
            "selection_rule", "checkpoint_sha256", "git_sha", "versions", "machine", "wall_time_s",
            "peak_memory_mb", "seed", "finished_at")
PACKAGES = ("torch", "lightning", "torchmetrics", "transformers", "litdata", "av", "kornia", "numpy", "lit-jepa")


def params_hash(params: dict[str, Any], upstream: dict[str, str | None] | None = None) -> str:
    """Hash of a run's configuration: its params and the sha256 of the checkpoints of the earlier runs it uses
    (``upstream``: run name -> sha256), so a retrained upstream makes its dependents run again."""
    key = {"params": params, "upstream": upstream} if upstream else params
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def sha256_file(path: str | Path | None) -> str | None:
    """sha256 of a file (None for a missing file or a folder); computed once per file version, since a suite
    hashes the same encoder for every run that uses it."""
    if not path or not Path(path).is_file():
        return None
    st = Path(path).stat()
    return _sha256(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def sha256_path(path: str | Path | None) -> str | None:
    """sha256 of a file, or of a folder (a ``transformers`` model folder) as the names and sha256 of every file
    in it; None when it does not exist."""
    if not path or not Path(path).exists():
        return None
    if Path(path).is_file():
        return sha256_file(path)
    files = sorted(f for f in Path(path).rglob("*") if f.is_file())
    listing = [(str(f.relative_to(path)), sha256_file(f)) for f in files]
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str | None]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["python"] = platform.python_version()
    return found


def peak_memory_mb() -> float:
    """Peak resident memory of this process and its finished children (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def make_record(suite: str, name: str, kind: str, params: dict[str, Any], result: dict[str, Any],
                started: float, upstream: dict[str, str | None] | None = None) -> dict[str, Any]:
    """A complete record from a kind's ``result`` (``metrics``, ``protocol``, ``selection_rule``, optional
    ``checkpoint``, ``seed`` and ``extra``); ``upstream``: the checkpoints of earlier runs it used."""
    return {
        "schema": SCHEMA_VERSION, "suite": suite, "name": name, "kind": kind, "params": params,
        "params_hash": params_hash(params, upstream), "upstream": upstream or {}, "status": "done",
        "metrics": result["metrics"],
        "protocol": result["protocol"], "selection_rule": result.get("selection_rule", "single run"),
        "checkpoint": str(result["checkpoint"]) if result.get("checkpoint") else None,
        "checkpoint_sha256": sha256_file(result.get("checkpoint")), "git_sha": git_sha(), "versions": versions(),
        "machine": machine(), "wall_time_s": round(time.time() - started, 2),
        "peak_memory_mb": round(peak_memory_mb()), "seed": result.get("seed", params.get("seed")),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "extra": result.get("extra", {}),
    }


def validate(record: dict[str, Any], path: str | Path = "<record>") -> dict[str, Any]:
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise ValueError(f"{path}: record misses {missing}")
    if record["schema"] != SCHEMA_VERSION:
        raise ValueError(f"{path}: schema {record['schema']}, expected {SCHEMA_VERSION}")
    if not isinstance(record["metrics"], dict):
        raise ValueError(f"{path}: metrics must be a dict, got {type(record['metrics']).__name__}")
    return record


def record_path(root: Path, suite: str, name: str) -> Path:
    return root / suite / f"{name}.json"


def load_records(root: Path) -> list[dict[str, Any]]:
    """The finished records under ``root`` (failed runs keep their record for inspection, outside the tables)."""
    loaded = [(p, json.loads(p.read_text())) for p in sorted(root.glob("*/*.json"))]
    return [validate(r, p) for p, r in loaded if r.get("status") == "done"]


def finished(root: Path, suite: str, name: str, params: dict[str, Any],
             upstream: dict[str, str | None] | None = None) -> dict[str, Any] | None:
    """The finished record of this exact configuration (params and upstream checkpoints), if any."""
    path = record_path(root, suite, name)
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    ok = record.get("status") == "done" and record.get("params_hash") == params_hash(params, upstream)
    return record if ok else None


def save(root: Path, record: dict[str, Any]) -> Path:
    return atomic_write_json(record_path(root, record["suite"], record["name"]), record, indent=1, default=str)
