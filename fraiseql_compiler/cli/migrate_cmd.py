"""``fraiseql migrate``: the command around :mod:`fraiseql_compiler.migrate` — a plan first, a progress
display while applying, a summary at the end; ``--dry-run``, ``--check``, ``--status`` and ``--json``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

EXIT_OK, EXIT_FINDINGS = 0, 1
_VERBS = {
    "drop": "drop",
    "user": "apply",
    "versioned": "apply",
    "create": "create",
    "replace": "re-create",
    "rerun": "re-run",
    "repair": "repair",
}


def _build_out(root: Path) -> str:
    """``[build] out`` of the project's fraiseql.toml. Everything else migrate needs comes from the build's
    manifest (what was reviewed), so the configuration is not validated here, only read: a file that does not
    parse gets the full configuration loader's diagnostic."""
    import tomllib

    config_file = root / "fraiseql.toml"
    if not config_file.exists():
        return "build"
    try:
        out = tomllib.loads(config_file.read_text(encoding="utf-8")).get("build", {}).get("out", "build")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError, OSError):
        out = None
    if not isinstance(out, str):
        from fraiseql_compiler.config import load_config

        return load_config(config_file).build.out
    return out


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix() or "."
    except ValueError:
        return str(path)


def _where(action: Any) -> str:
    return f"{action.file}:{action.line}" if action.file else ""


def _plan_lines(plan: Any) -> list[str]:
    lines = []
    for a in plan.actions:
        reason = f" ({a.reason})" if a.reason else ""
        lines.append(f"  {_VERBS[a.action]:<9} {a.name}{reason}  {_where(a)}".rstrip())
    for d in plan.drift:
        lines.append(f"  drifted   {d.name}  (changed by hand since migrate made it)")
    for h in plan.hazards:
        lines.append(f"  hazard    {h.id}: {h.object}: {h.what}")
    return lines


def _as_json(plan: Any, applied: list[tuple[Any, float]] | None = None) -> dict[str, Any]:
    return {
        "up_to_date": plan.up_to_date,
        "actions": [
            {"action": a.action, "name": a.name, "kind": a.kind, "file": a.file, "line": a.line, "reason": a.reason}
            for a in plan.actions
        ],
        "drift": [{"name": d.name, "kind": d.kind} for d in plan.drift],
        "hazards": [{"id": h.id, "object": h.object, "what": h.what} for h in plan.hazards],
        **({"applied": [{"name": a.name, "seconds": round(s, 4)} for a, s in applied]} if applied is not None else {}),
    }


def _status(plan: Any, build: Any) -> list[tuple[str, str, str]]:
    pending = {a.name for a in plan.actions if a.action != "drop"}
    drifted = {d.name for d in plan.drift}
    rows = [(u.name, "migration", "pending" if u.name in pending else "applied") for u in build.user]
    for o in build.objects:
        state = "drifted" if o.name in drifted else ("pending" if o.name in pending else "applied")
        rows.append((o.name, o.kind, state))
    rows += [(a.name, a.kind, "to drop") for a in plan.actions if a.action == "drop" and a.name not in pending]
    return rows


def run(
    path: Path | None,
    database: str,
    out: Path | None,
    dry_run: bool,
    check: bool,
    status: bool,
    as_json: bool,
    repair: bool,
    allow: tuple[str, ...],
    rebuild: bool,
    lock_timeout: float | None,
) -> int:
    from fraiseql_compiler.cli.app import guarded
    from fraiseql_compiler.diagnostics import FraiseQLError, diag
    from fraiseql_compiler.migrate import Options, apply, inspect, load_build
    from fraiseql_compiler.migrate.plan import HAZARDS

    cwd = Path.cwd()

    def setup() -> tuple[Any, Any, Options]:
        root = (cwd / path).resolve() if path is not None else cwd
        if root.is_file():
            root = root.parent
        build_dir = (cwd / out).resolve() if out is not None else (root / _build_out(root)).resolve()
        if rebuild:
            from fraiseql_compiler import api

            api.build(root, out=build_dir, cwd=cwd)
        if not database:
            raise FraiseQLError([diag("FQL401", "no database: pass --database URL or set DATABASE_URL", hint=None)])
        unknown = sorted({h for item in allow for h in item.split(",") if h} - HAZARDS.keys())
        if unknown:
            raise FraiseQLError(
                [diag("FQL404", f"unknown hazard {', '.join(unknown)}", hint="hazards: " + ", ".join(HAZARDS))]
            )
        build = load_build(build_dir, root)
        settings = build.settings
        options = Options(
            repair=repair,
            allow=frozenset(h for item in allow for h in item.split(",") if h),
            wait_seconds=float(lock_timeout if lock_timeout is not None else settings.wait_seconds),
            lock_timeout_seconds=settings.lock_timeout_seconds,
            statement_timeout_seconds=settings.statement_timeout_seconds,
        )
        return build, build_dir, options

    build, build_dir, options = guarded(cwd, setup, outcome="nothing was applied")
    where = _display(build_dir, cwd)
    plan = guarded(cwd, lambda: inspect(database, build, repair), outcome="nothing was applied")
    from fraiseql_compiler.migrate.apply import claims_key_status, no_claims_key

    def key_status() -> tuple[str | None, list[str]]:
        kid, held = claims_key_status(database, build, options)
        if not held and kid is None and not (status or check or dry_run):  # refused before any plan is shown
            raise no_claims_key(build.settings.claims_key_env)
        return kid, held

    kid, held = guarded(cwd, key_status, outcome="nothing was applied")
    key_var = build.settings.claims_key_env
    # the claims key (docs/claims-proof.md): none held, or the variable's not among those held
    # (or not the newest held: a rotation back to it must make it the newest, or the next one would retire it)
    key_pending = not held or (kid is not None and held[0] != kid)
    key_note = (
        f"the claims key from {key_var} (kid {kid}) into fraiseql.tb_claims_key"
        if kid is not None
        else f"no claims key: the database holds none and {key_var} is not set"
    )

    if status:
        rows = _status(plan, build)
        if as_json:
            click.echo(json.dumps({"objects": [{"name": n, "kind": k, "state": s} for n, k, s in rows]}, indent=2))
        else:
            from rich.console import Console
            from rich.table import Table

            table = Table("object", "kind", "state", title=f"fraiseql migrate --status ({where})")
            for name, kind, state in rows:
                colour = {"applied": "green", "pending": "yellow", "drifted": "red", "to drop": "yellow"}[state]
                table.add_row(name, kind, f"[{colour}]{state}[/{colour}]")
            Console(highlight=False, soft_wrap=True).print(table)
        return EXIT_OK if plan.up_to_date else EXIT_FINDINGS
    if check:
        if as_json:
            click.echo(json.dumps(_as_json(plan), indent=2))
        elif plan.up_to_date and not key_pending:
            click.echo(f"up to date: the database matches {where}")
        else:
            click.echo(click.style("pending", fg="yellow", bold=True) + f": the database does not match {where}:")
            for line in _plan_lines(plan):
                click.echo(line)
            if key_pending:
                click.echo(f"  key       {key_note}")
            click.echo("run `fraiseql migrate` (or see `fraiseql migrate --dry-run`)")
        return EXIT_OK if plan.up_to_date and not key_pending else EXIT_FINDINGS
    if dry_run:
        if as_json:
            click.echo(json.dumps(_as_json(plan), indent=2))
            return EXIT_OK
        click.echo("-- fraiseql migrate --dry-run: the statements it would run, in one transaction, in this order")
        click.echo("BEGIN;")
        for a in plan.actions:
            click.echo(f"\n-- {_VERBS[a.action]} {a.name}" + (f"  ({_where(a)})" if a.file else ""))
            click.echo(a.sql)
        click.echo("\n-- and the history rows in fraiseql.tb_migration / tb_schema_object")
        if key_pending:
            click.echo(f"-- and {key_note} (its value is never printed)")
        click.echo("COMMIT;")
        return EXIT_OK

    if plan.up_to_date and not key_pending:
        if as_json:
            click.echo(json.dumps(_as_json(plan, []), indent=2))
        else:
            click.echo(f"up to date: nothing to apply ({where})")
        return EXIT_OK
    if not as_json and plan.actions:
        click.echo(f"plan ({len(plan.actions)} step(s), one transaction):")
        for line in _plan_lines(plan):
            click.echo(line)
    started = time.monotonic()
    progress, finish = _progress(as_json)
    try:
        outcome = guarded(cwd, lambda: apply(database, build, options, progress), outcome="nothing was applied")
    finally:
        finish()
    elapsed = time.monotonic() - started
    if as_json:
        report = _as_json(outcome.plan, outcome.applied)
        report["healed"] = sorted({a.name for a, _ in outcome.healed if a.action != "drop"})
        click.echo(json.dumps(report, indent=2))
    elif not outcome.applied and not key_pending:
        click.echo("nothing left to apply: another migrate applied it meanwhile")
    else:
        waited = (
            f", after waiting {outcome.waited_seconds:.1f} s for another migrate"
            if outcome.waited_seconds > 0.5
            else ""
        )
        if outcome.applied:
            click.echo(f"applied {len(outcome.applied)} step(s) in {elapsed:.2f} s{waited}")
    if key_pending and outcome.claims_key is not None and not as_json:
        dropped = f"; retired {', '.join(outcome.claims_keys_dropped)}" if outcome.claims_keys_dropped else ""
        others = "it and the previous one" if len(held) >= 1 and held[0] != outcome.claims_key else "it"
        click.echo(f"claims key {outcome.claims_key} installed (the database accepts {others}){dropped}")
    if outcome.healed and not as_json:
        names = sorted({a.name for a, _ in outcome.healed if a.action != "drop"})
        click.echo(
            f"re-created {len(names)} object(s) that your migrations changed, from the build: {', '.join(names)}"
        )
    return EXIT_OK


def _progress(quiet: bool) -> tuple[Any, Any]:
    """(callback, finish): a rich progress bar on a terminal, plain lines otherwise, nothing with --json."""
    if quiet:
        return None, lambda: None
    if not sys.stdout.isatty():

        def plain(action: Any, i: int, total: int) -> None:
            click.echo(f"  [{i + 1}/{total}] {_VERBS[action.action]} {action.name}")

        return plain, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True)
    bar.start()
    task = bar.add_task("applying", total=None)

    def update(action: Any, i: int, total: int) -> None:
        bar.update(task, total=total, completed=i, description=f"{_VERBS[action.action]} {action.name}")

    return update, bar.stop
