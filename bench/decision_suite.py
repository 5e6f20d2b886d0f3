"""The labelled decision suite (tests/validation/test_decision_quality.py): relays its summary line.

Runs it with pytest in a subprocess, in its own throw-away data folder and SQLite file, and prints
the `decision suite: ...` line the suite prints (bad installs approved, clean ones not approved,
uncertain), with the suite's wall time and pytest's own result line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = "tests/validation/test_decision_quality.py"


def run() -> None:
    data_dir = tempfile.mkdtemp(prefix="selfinstall-bench-decisions-")
    env = {**os.environ, "DATA_DIR": data_dir, "DATABASE_URL": f"sqlite:///{data_dir}/decisions.sqlite3"}
    pytest = Path(sys.executable).with_name("pytest")
    started = time.perf_counter()
    done = subprocess.run(
        [str(pytest), SUITE, "-q", "-s", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall_s = time.perf_counter() - started
    lines = (done.stdout + "\n" + done.stderr).splitlines()
    summary = next((line[line.index("decision suite:") :] for line in lines if "decision suite:" in line), None)
    words = ("passed", "failed", "error")
    outcome = next((ln.strip("= ") for ln in reversed(lines) if " in " in ln and any(w in ln for w in words)), "")
    failed = "; ".join(
        ln.split(" ", 1)[-1].split("::", 1)[-1][:160] for ln in lines if ln.startswith(("FAILED ", "ERROR "))
    )
    if summary is None:  # the summary test itself failed before printing: name what failed instead
        summary = f"decision suite: no summary line printed (pytest exit {done.returncode})"
    failures = f"; failed: {failed or 'see pytest output'}" if done.returncode else ""
    print(f"{summary} ({wall_s:.0f} s wall; pytest: {outcome or f'exit {done.returncode}'}{failures})", flush=True)
