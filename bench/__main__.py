"""`make bench`: every figure is a ratio to a baseline measured in the same run on the same input."""

from __future__ import annotations

import os
import sys
import tempfile
import time

# The benchmarks get their own throw-away SQLite file and photo folder (set before the project is
# imported: the database engine is bound then); DATABASE_URL may point them at PostgreSQL instead.
os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="selfinstall-bench-")

from bench import (  # noqa: E402
    decision_suite,
    http_json,
    http_photos,
    load,
    photo_validation,
    qr_reading,
    reuse_lookup,
    reuse_tricks,
    scale,
)
from bench.common import require_corpus  # noqa: E402


def main() -> None:
    require_corpus()
    started = time.perf_counter()
    print(f"python {sys.version.split()[0]}; medians of repeated runs; lower is better", flush=True)
    photo_validation.run()
    qr_reading.run()
    reuse_lookup.run()
    reuse_tricks.run()
    decision_suite.run()
    scale.run()  # fills and drops scratch databases of its own (10k and 1M rows)
    http_json.run()  # starts servers of its own, as load does
    http_photos.run()  # photos/s through a served app against the bare validation rate
    load.run()  # last: it starts servers of its own (SQLite, then PostgreSQL)
    print(f"bench: done in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
