"""Build time at scale, as a user sees it: the real ``fraiseql build``, cold, on generated schemas.

For each N in ``--sizes`` (default 250, 500, 1000, 2000), ``generate(N, 2N)`` (N table-backed types, each
embedding the previous one; N row-filtered queries, N mutations) is written to a temporary directory as
``schema.py`` and ``fraiseql build schema.py --out build`` runs there as a fresh subprocess: interpreter start,
imports, analysis, emission, the diagnostics it prints (captured) and the write of every file (``build/`` is
deleted before each run, untimed). Wall time around ``subprocess.run``; median and min of ``--runs``. Then:

* the curve: µs per type, t(2N)/t(N) for the largest doubling measured, and a least-squares fit
  t = a + b·N + c·N² over the medians (c, in µs per N², shows whether a quadratic term is left);
* ``fraiseql --help`` and ``fraiseql build --help``, cold;
* the peer: the same schema for strawberry-graphql (``peer_strawberry.py``), built into ``strawberry.Schema``
  and printed to ``schema.graphql`` by a cold ``python peer_schema.py``; ours/strawberry < 1 beats it.
  Needs the optional extra: ``pip install -e ".[bench]"``;
* with ``--stages``, an in-process, warm breakdown (``api.analyze``, ``api.emit``, ``write_atomically``).

Targets: N=1000 <= 1.0 s (median, cold, written); t(2000)/t(1000) <= 2.1; ``build --help`` <= 150 ms.
The script prints figures and verdicts and asserts nothing; figures are as noisy as the machine.

    python benchmarks/build_scale.py [--sizes 250,500,1000,2000] [--runs 5] [--no-peer] [--stages] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # --stages measures the package of this working tree
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # peer_strawberry, also when this file is imported rather than run

TARGET_1000 = 1.0  # s, median cold build of N=1000
TARGET_RATIO = 2.1  # t(2000) / t(1000)
TARGET_HELP = 0.150  # s, median cold `fraiseql build --help`
DIRECTIVES = re.compile(r"\s+@.*$")  # fraiseql's @authenticated/@requiresScope: strawberry's schema has none


def generate(types: int, operations: int) -> str:
    lines = [
        "import fraiseql",
        "from fraiseql.auth import authenticated, requires_scope",
        "from fraiseql.scalars import ID, DateTime",
        "",
    ]
    for i in range(types):
        lines += [
            f'@fraiseql.type(table="tb_t{i}")',
            f"class T{i}:",
            "    id: ID",
            "    name: str",
            "    count: int",
            "    created_at: DateTime",
            "    note: str | None",
        ]
        if i:  # embed the previous type: a chain of nested views
            lines.append(f"    parent: T{i - 1}")
        lines.append("")
    for j in range(operations):
        i = j % types
        if j % 2 == 0:
            # 100 distinct filter texts over 1,000 filtered queries: real schemas repeat a few patterns
            rf = f"id = {{current_user_id}} AND count > {{arg:min_count}} AND name <> 'n{j % 100}'"
            lines += [
                f'@fraiseql.query(sql_source="v_t{i}", row_filter="{rf}")',
                "@authenticated",
                f"def q{j}(min_count: int = 0, limit: int = 20) -> list[T{i}]: ...",
                "",
            ]
        else:
            lines += [
                "@fraiseql.mutation",
                "@authenticated",
                '@requires_scope("write:things")',
                f"def m{j}(info, name: str, count: int = 1) -> T{i}: ...",
                "",
            ]
    return "\n".join(lines)


class RunFailed(Exception):
    pass


COMMAND: list[str] = []  # set by main(): the fraiseql being measured


def fraiseql_command() -> list[str]:
    if COMMAND:
        return COMMAND
    exe = Path(sys.executable).parent / "fraiseql"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "fraiseql_compiler.cli"]


def install_wheel(venv_dir: Path) -> list[str]:
    """``pip install .`` of this checkout into a fresh venv, as a user installs it: a normal (non-editable)
    install, byte-compiled by pip. The venv sees this environment's packages (the dependencies) through a
    .pth file, so nothing is downloaded; an editable install's .pth is not processed there, so the wheel is
    the fraiseql that runs."""
    import sysconfig
    import venv

    venv.EnvBuilder(with_pip=False).create(venv_dir)
    python = venv_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(site) / "_outer_environment.pth").write_text("".join(f"{p}\n" for p in ours), encoding="utf-8")
    source = venv_dir / "src"
    shutil.copytree(HERE.parent, source, ignore=shutil.ignore_patterns(".git", "build", "__pycache__", ".*"))
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--compile",
            str(source),
        ],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )
    return [str(venv_dir / "bin" / "fraiseql")]


def time_cold(
    cmd: list[str], cwd: Path, runs: int, reset: Callable[[], None] | None = None
) -> tuple[list[float], bytes]:
    """Wall times of ``runs`` fresh subprocesses (``reset`` runs before each, untimed), and the last stderr."""
    times, stderr = [], b""
    for _ in range(runs):
        if reset is not None:
            reset()
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            tail = proc.stderr.decode(errors="replace")[-4000:]
            raise RunFailed(f"`{' '.join(cmd)}` exited {proc.returncode} in {cwd}:\n{tail}")
        times.append(elapsed)
        stderr = proc.stderr
    return times, stderr


def sdl_fields(sdl: str) -> set[str]:
    """``Type.field(args): Type`` of every object type, directives dropped: what both SDLs must agree on."""
    fields, current = set(), None
    for line in sdl.splitlines():
        if line.startswith("type "):
            current = line.split()[1]
        elif line.startswith("}"):
            current = None
        elif current and line.startswith("  "):
            fields.add(current + "." + DIRECTIVES.sub("", line.strip()))
    return fields


def fmt(times: list[float]) -> str:
    return f"median {statistics.median(times):6.3f} s  min {min(times):6.3f} s"


def fit_quadratic(ns: list[int], ts: list[float]) -> tuple[float, float, float]:
    """Least squares t = a + b·x + c·x² with x = N/1000 (normal equations, Cramer's rule)."""
    rows = [(1.0, n / 1000, (n / 1000) ** 2) for n in ns]
    m = [[sum(r[i] * r[j] for r in rows) for j in range(3)] for i in range(3)]
    v = [sum(r[i] * t for r, t in zip(rows, ts, strict=True)) for i in range(3)]

    def det(a: list[list[float]]) -> float:
        return (
            a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        )

    d = det(m)
    coef = [det([[v[r] if c == k else m[r][c] for c in range(3)] for r in range(3)]) / d for k in range(3)]
    return coef[0], coef[1], coef[2]


def measure_size(n: int, runs: int, peer: bool) -> tuple[list[float], list[float] | None]:
    with tempfile.TemporaryDirectory(prefix=f"fql_scale_{n}_") as tmp:
        root = Path(tmp)
        (root / "schema.py").write_text(generate(n, 2 * n), encoding="utf-8")
        ours, stderr = time_cold(
            [*fraiseql_command(), "build", "schema.py", "--out", "build"],
            root,
            runs,
            lambda: shutil.rmtree(root / "build", ignore_errors=True),
        )
        files = [p for p in (root / "build").rglob("*") if p.is_file()]
        if not (root / "build" / "schema.graphql").is_file():
            raise RunFailed(f"fraiseql build wrote no schema.graphql in {root}")
        size = sum(p.stat().st_size for p in files) / 1e6
        warnings = stderr.count(b"warning[")
        print(
            f"N={n:>5}  fraiseql build   {fmt(ours)}  {statistics.median(ours) / n * 1e6:6.0f} µs/type"
            f"  ({len(files)} files, {size:.1f} MB; {warnings} warnings, {len(stderr) / 1e3:.0f} kB on stderr)",
            flush=True,
        )
        if not peer:
            return ours, None
        from peer_strawberry import generate_strawberry

        (root / "peer_schema.py").write_text(generate_strawberry(n, 2 * n), encoding="utf-8")
        sdl = root / "schema.graphql"
        theirs, _ = time_cold([sys.executable, "peer_schema.py"], root, runs, lambda: sdl.unlink(missing_ok=True))
        text = sdl.read_text(encoding="utf-8") if sdl.is_file() else ""
        if f"type T{n - 1} " not in text or f"m{2 * n - 1}(" not in text:
            raise RunFailed(f"strawberry's schema.graphql in {root} is missing or incomplete ({len(text)} chars)")
        mine, peers = sdl_fields((root / "build" / "schema.graphql").read_text(encoding="utf-8")), sdl_fields(text)
        same = "same fields as ours" if mine == peers else f"DIFFERS: {len(mine - peers)}/{len(peers - mine)} fields"
        print(
            f"N={n:>5}  strawberry       {fmt(theirs)}  {statistics.median(theirs) / n * 1e6:6.0f} µs/type"
            f"  (SDL {len(text) / 1e3:.0f} kB, {len(peers)} fields: {same})",
            flush=True,
        )
        return ours, theirs


def report_curve(ours: dict[int, list[float]]) -> None:
    ns = sorted(ours)
    med = {n: statistics.median(ours[n]) for n in ns}
    print("\ncurve (fraiseql build, cold, written):")
    for n in ns:
        print(f"  N={n:>5}  median {med[n]:6.3f} s  min {min(ours[n]):6.3f} s  {med[n] / n * 1e6:6.0f} µs/type")
    doubling = [n for n in ns if 2 * n in med]
    if doubling:
        n = doubling[-1]
        ratio = med[2 * n] / med[n]
        print(f"  ratio t({2 * n})/t({n}) = {ratio:.2f}  (target <= {TARGET_RATIO}, linear = 2.0)")
    if len(ns) >= 3:
        a, b, c = fit_quadratic(ns, [med[n] for n in ns])
        big = ns[-1]
        print(
            f"  fit t = a + b·N + c·N²: a = {a * 1000:.0f} ms, b = {b * 1000:.0f} µs/type, c = {c:.4f} µs/N²"
            f"  (c·N² at N={big}: {c * (big / 1000) ** 2 * 1000:.0f} ms of {med[big] * 1000:.0f} ms)"
        )
    else:
        print("  fit t = a + b·N + c·N²: needs >= 3 sizes")
    if 1000 in med:
        verdict = "OK" if med[1000] <= TARGET_1000 else "OVER"
        print(f"target N=1000 ≤ {TARGET_1000} s: {verdict} ({med[1000]:.3f} s)")
    else:
        print(f"target N=1000 ≤ {TARGET_1000} s: n/a (N=1000 not measured)")
    if doubling and 2 * doubling[-1] == 2000:
        print(f"ratio ≤ {TARGET_RATIO}: {'OK' if ratio <= TARGET_RATIO else 'OVER'}")
    elif doubling:
        print(f"ratio ≤ {TARGET_RATIO}: n/a for t({2 * n})/t({n}) ({ratio:.2f}; the target is t(2000)/t(1000))")


def report_help(runs: int) -> None:
    print("\nstartup (cold):")
    with tempfile.TemporaryDirectory(prefix="fql_help_") as tmp:
        base, _ = time_cold([sys.executable, "-c", "pass"], Path(tmp), runs)
        print(f"  python -c pass            {fmt(base)}")
        for args in (["--help"], ["build", "--help"]):
            times, _ = time_cold([*fraiseql_command(), *args], Path(tmp), runs)
            print(f"  fraiseql {' '.join(args):<16} {fmt(times)}")
    verdict = "OK" if statistics.median(times) <= TARGET_HELP else "OVER"
    print(f"target build --help ≤ {TARGET_HELP * 1000:.0f} ms: {verdict}")


def report_peer(ours: dict[int, list[float]], theirs: dict[int, list[float]]) -> None:
    print("\npeer (cold, median): fraiseql build (SQL + manifest + SDL, written) vs strawberry (SDL only)")
    print(f"  {'N':>5}  {'ours':>8}  {'strawberry':>10}  ours/strawberry")
    for n in sorted(theirs):
        mine, peer = statistics.median(ours[n]), statistics.median(theirs[n])
        print(f"  {n:>5}  {mine:7.3f}s  {peer:9.3f}s  {mine / peer:5.2f}  {'beats' if mine < peer else 'SLOWER'}")


def report_stages(n: int, runs: int) -> None:
    from fraiseql_compiler import api

    print(f"\nstage breakdown (in-process, warm, best of {runs}), N={n}:")
    if not (hasattr(api, "analyze") and hasattr(api, "emit")):
        print("  stage breakdown needs api.analyze/api.emit")
        return
    from fraiseql_compiler.emit import write_atomically
    from fraiseql_compiler.project import resolve_project

    stages: dict[str, list[float]] = {"analyze": [], "emit": [], "write": [], "total": []}
    with tempfile.TemporaryDirectory(prefix="fql_stages_") as tmp:
        root = Path(tmp)
        (root / "schema.py").write_text(generate(n, 2 * n), encoding="utf-8")
        project = resolve_project(root / "schema.py")
        out = root / "build"
        for _ in range(runs):
            shutil.rmtree(out, ignore_errors=True)
            gc.collect()  # the previous run's garbage is not this run's cost
            t0 = time.perf_counter()
            analysis = api.analyze(project)
            t1 = time.perf_counter()
            artifacts = api.emit(analysis)
            t2 = time.perf_counter()
            write_atomically(artifacts, out)
            t3 = time.perf_counter()
            for key, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
                stages[key].append(value)
    for key, values in stages.items():
        print(f"  {key:<8} best {min(values) * 1000:7.1f} ms   median {statistics.median(values) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--sizes", help="comma-separated N (types; operations = 2N), default 250,500,1000,2000")
    parser.add_argument("--runs", type=int, help="cold runs per measurement (median), default 5")
    parser.add_argument("--no-peer", action="store_true", help="skip the strawberry-graphql comparison")
    parser.add_argument("--stages", action="store_true", help="also time in-process stages (api.analyze/emit)")
    parser.add_argument("--stages-n", type=int, help="N for --stages, default 1000 (100 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes 50,100, runs 1")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="time the fraiseql of this environment (an editable install compiles its modules on every run "
        "when bytecode is not written) instead of a fresh `pip install .`",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in (args.sizes or ("50,100" if args.quick else "250,500,1000,2000")).split(",")]
    runs = args.runs or (1 if args.quick else 5)

    from peer_strawberry import strawberry_available

    peer = not args.no_peer and strawberry_available()
    with tempfile.TemporaryDirectory(prefix="fql_wheel_") as venv_dir:
        if not args.in_place:
            COMMAND[:] = install_wheel(Path(venv_dir))
        run(args, sizes, runs, peer)


def run(args: argparse.Namespace, sizes: list[int], runs: int, peer: bool) -> None:
    from peer_strawberry import INSTALL_HINT

    installed = "this environment's" if args.in_place else "a fresh `pip install .` of this checkout"
    print(f"fraiseql: {installed} ({' '.join(fraiseql_command())}); python {sys.version.split()[0]}")
    print(f"{runs} cold runs per figure")
    if not args.no_peer and not peer:
        print(f"peer skipped: strawberry-graphql is not installed ({INSTALL_HINT})")
    ours: dict[int, list[float]] = {}
    theirs: dict[int, list[float]] = {}
    try:
        for n in sorted(sizes):
            ours[n], peer_times = measure_size(n, runs, peer)
            if peer_times is not None:
                theirs[n] = peer_times
        report_curve(ours)
        report_help(runs)
        if theirs:
            report_peer(ours, theirs)
    except RunFailed as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if args.stages:
        report_stages(args.stages_n or (100 if args.quick else 1000), runs)


if __name__ == "__main__":
    main()
