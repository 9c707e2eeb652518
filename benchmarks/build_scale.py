"""Build time at scale: a generated schema of 1,000 types and 2,000 operations.

Prints the time of each pipeline stage and of the whole build (written to disk), best of N runs in
one process (each run re-imports the schema module). Target: whole build <= 1 s.

    python benchmarks/build_scale.py [--types 1000] [--operations 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", type=int, default=1000)
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from fraiseql_compiler.api import _gc_paused, compile_project
    from fraiseql_compiler.checks import validate
    from fraiseql_compiler.emit import emit_manifest, emit_sdl, emit_sql, write_atomically
    from fraiseql_compiler.emit.context import sql_context
    from fraiseql_compiler.introspect import build_schema
    from fraiseql_compiler.loader import isolated_imports, load
    from fraiseql_compiler.project import resolve_project
    from fraiseql_compiler.sourcemap import SourceMap

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "schema.py").write_text(generate(args.types, args.operations))
        project = resolve_project(root / "schema.py")
        stages: dict[str, list[float]] = {k: [] for k in ("import", "introspect", "validate", "emit", "write", "total")}
        for _ in range(args.runs):
            pause = _gc_paused()  # as compile_project does
            pause.__enter__()
            t0 = time.perf_counter()
            with isolated_imports(root):
                result = load(list(project.files), root)
                t1 = time.perf_counter()
                schema, _ = build_schema(result, SourceMap(root))
            t2 = time.perf_counter()
            validate(schema)
            t3 = time.perf_counter()
            ctx = sql_context(project.config)
            artifacts = emit_sql(schema, ctx) + emit_sdl(schema)
            artifacts += emit_manifest(schema, {}, ctx, artifacts)
            t4 = time.perf_counter()
            write_atomically(artifacts, root / "build")
            t5 = time.perf_counter()
            pause.__exit__(None, None, None)
            for key, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0), strict=True):
                stages[key].append(value)
        # the public API end to end, once, as a cross-check of the staged figure
        t0 = time.perf_counter()
        compiled = compile_project(project)
        api_time = time.perf_counter() - t0
        size = sum(len(a.content) for a in compiled.artifacts)

    print(f"schema: {args.types} types, {args.operations} operations; {args.runs} runs; output {size / 1e6:.1f} MB")
    for key, values in stages.items():
        print(f"  {key:<10} best {min(values) * 1000:7.1f} ms   median {statistics.median(values) * 1000:7.1f} ms")
    print(f"  compile_project (no write), one run: {api_time * 1000:.1f} ms")
    best = min(stages["total"])
    print(f"whole build: {best:.2f} s (target <= 1 s): {'OK' if best <= 1.0 else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
