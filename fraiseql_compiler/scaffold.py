"""``fraiseql init``: a minimal project that builds at once."""

from __future__ import annotations

from pathlib import Path

from fraiseql_compiler.config import CONFIG_FILE
from fraiseql_compiler.diagnostics import FraiseQLError, diag
from fraiseql_compiler.project import display_path

SCHEMA = '''"""{name}: the GraphQL API, declared with FraiseQL decorators."""

import fraiseql
from fraiseql.auth import authenticated
from fraiseql.scalars import ID


@fraiseql.type(table="tb_item")
class Item:
    id: ID
    name: str


@fraiseql.query(sql_source="v_item")
@authenticated
def items(limit: int = 20) -> list[Item]:
    """Every item the caller may see."""
'''


def scaffold(directory: Path, name: str | None = None) -> list[Path]:
    import tomli_w

    directory = directory.resolve()
    project = name or directory.name or "app"
    schema, config, gitignore = directory / "schema.py", directory / CONFIG_FILE, directory / ".gitignore"
    existing = [p for p in (schema, config) if p.exists()]
    if existing:
        raise FraiseQLError(
            [
                diag(
                    "FQL150",
                    f"{display_path(existing[0])} already exists; fraiseql init never overwrites files",
                    hint="run it in an empty directory, or pass one: fraiseql init myapi",
                )
            ]
        )
    directory.mkdir(parents=True, exist_ok=True)
    schema.write_text(SCHEMA.format(name=project), encoding="utf-8")
    document = {"project": {"name": project}, "schema": {"modules": ["schema.py"]}, "build": {"out": "build"}}
    config.write_text(tomli_w.dumps(document), encoding="utf-8")
    created = [schema, config]
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    if not any(line.strip().rstrip("/") in ("build", "/build") for line in lines):
        prefix = "" if not lines or lines[-1] == "" else "\n"
        with gitignore.open("a", encoding="utf-8") as fh:
            fh.write(prefix + "# fraiseql build output\n/build/\n")
        created.append(gitignore)
    return created
