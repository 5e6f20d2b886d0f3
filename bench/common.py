"""What the benchmarks share: where the corpus is, and interleaved ratio timing."""

from __future__ import annotations

import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar


def _shared() -> Path:
    """As tests/conftest.py finds it (not imported: it points DATA_DIR and DATABASE_URL at its own files):
    SHARED_DIR if set, else a shared/ beside the checkout."""
    beside = [Path(__file__).resolve().parents[i] / "shared" for i in (2, 3)]
    if os.environ.get("SHARED_DIR"):
        return Path(os.environ["SHARED_DIR"])
    return next((p for p in beside if p.exists()), beside[0])


SHARED = _shared()


def require_corpus() -> None:
    """Stop before measuring anything when the corpora are missing, saying where they were looked for."""
    if not (SHARED / "corpus").is_dir():
        raise SystemExit(
            f"the benchmarks read the public test corpora at {SHARED / 'corpus'}, which is missing "
            "(README, 'Test corpora'): lay shared/ beside the checkout or set SHARED_DIR to the folder holding corpus/"
        )


PHONE_PHOTOS = SHARED / "corpus" / "phone-photos"
# Slow-to-make inputs (generated photos, HEIC encodes) kept between runs, keyed by what made them.
CACHE = Path(tempfile.gettempdir()) / "selfinstall-bench-cache"

T = TypeVar("T")


def interleaved(
    items: Sequence[T], fns: Sequence[Callable[[T], object]], rounds: int, *, warm: bool = True
) -> tuple[list[float], list[float]]:
    """Median over `rounds` of each fn's per-round ratio to fns[0] (the baseline), and the median
    per-round CPU ms of each fn. In every round each item is run by every fn in turn, the order
    rotating from item to item and round to round (A B C, B C A, ...), so drift hits all alike.
    Times are CPU time of this process (`time.process_time`, all its threads): on this shared,
    noisy machine wall time also counts the waits for a CPU."""
    if warm:  # caches and lazy imports, once
        for item in items:
            for fn in fns:
                fn(item)
    n = len(fns)
    ratios: list[list[float]] = [[] for _ in fns]
    totals_ms: list[list[float]] = [[] for _ in fns]
    for r in range(rounds):
        totals = [0.0] * n
        for j, item in enumerate(items):
            shift = (r + j) % n
            for k in [(shift + i) % n for i in range(n)]:
                start = time.process_time()
                fns[k](item)
                totals[k] += time.process_time() - start
        for k in range(n):
            ratios[k].append(totals[k] / totals[0])
            totals_ms[k].append(totals[k] * 1000)
    return [statistics.median(r) for r in ratios], [statistics.median(t) for t in totals_ms]


def cached(key: str, make: Callable[[], bytes]) -> bytes:
    """`make()`'s bytes, kept in CACHE under `key` (written atomically: two processes may race)."""
    path = CACHE / key
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(make())
        tmp.replace(path)
    return path.read_bytes()


def source_key(*modules: object) -> str:
    """A short digest of the modules' source files: a cache key that changes with the code."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())  # type: ignore[attr-defined]
    return digest.hexdigest()[:16]
