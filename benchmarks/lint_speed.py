"""``fraiseql lint`` as pre-commit runs it: the real CLI, cold, on ``examples/blog``.

Each run is a fresh process (interpreter start, imports, loading the schema modules, the analysis, the rules,
the output captured), wall time around ``subprocess.run``; median and min of ``--runs``. Cases:

* ``fraiseql lint examples/blog`` — the default rules (target: <= 300 ms median);
* ``fraiseql lint examples/blog --extend-select squawk`` — plus the SQL rules: the build's SQL is rendered in
  memory and squawk runs once over it and ``db/migrations/`` (for information);
* ``fraiseql --help`` (target: <= 150 ms) and ``fraiseql lint --help``.

Prints figures and verdicts; asserts nothing. Figures are as noisy as the machine.

    python benchmarks/lint_speed.py [--runs 11]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from build_scale import fraiseql_command  # noqa: E402

ROOT = HERE.parent
TARGET_LINT = 0.300
TARGET_HELP = 0.150


def timed(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs + 1):  # one warm-up run (the OS page cache), not counted
        started = time.perf_counter()
        done = subprocess.run([*fraiseql_command(), *args], cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):
            sys.exit(f"`fraiseql {' '.join(args)}` exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return times[1:]


def report(label: str, times: list[float], target: float | None) -> None:
    median = statistics.median(times)
    verdict = f"   target <= {target * 1000:.0f} ms: {'met' if median <= target else 'MISSED'}" if target else ""
    print(f"  {label:<52} median {median * 1000:6.0f} ms   min {min(times) * 1000:6.0f} ms{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=11)
    ns = parser.parse_args()
    print(f"fraiseql: {' '.join(fraiseql_command())}   python {sys.version.split()[0]}   runs: {ns.runs}, cold")
    report("fraiseql lint examples/blog", timed(["lint", "examples/blog"], ns.runs), TARGET_LINT)
    squawk = timed(["lint", "examples/blog", "--extend-select", "squawk"], ns.runs)
    report("fraiseql lint examples/blog --extend-select squawk", squawk, None)
    report("fraiseql --help", timed(["--help"], ns.runs), TARGET_HELP)
    report("fraiseql lint --help", timed(["lint", "--help"], ns.runs), TARGET_HELP)


if __name__ == "__main__":
    main()
