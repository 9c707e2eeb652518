"""Configuration models. A setting that nothing enforces is refused, so only what is built is accepted."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fraiseql_compiler.errors import Diagnostic, FraiseQLError, Span, error
from fraiseql_compiler.naming import IDENT_RE

CONFIG_FILE = "fraiseql.toml"


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProjectSection(Section):
    name: str | None = None


class SchemaSection(Section):
    modules: list[str] = Field(default_factory=list)


class BuildSection(Section):
    out: str = "build"


class DatabaseSection(Section):
    schema_: str = Field("public", alias="schema")

    @field_validator("schema_")
    @classmethod
    def _ident(cls, value: str) -> str:
        if not IDENT_RE.match(value):
            raise ValueError(f'"{value}" is not a lowercase SQL identifier')
        return value


class Config(Section):
    project: ProjectSection = ProjectSection()
    schema_: SchemaSection = Field(SchemaSection(), alias="schema")
    build: BuildSection = BuildSection()
    database: DatabaseSection = DatabaseSection()

    # Where the file was found; not part of the TOML.
    path: Path | None = Field(None, exclude=True)

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def normalized(self) -> dict[str, Any]:
        """The configuration as the manifest records it."""
        return {"database": {"schema": self.database.schema_}}


def _line_of(text: str, loc: tuple[str | int, ...]) -> int:
    """Best-effort line of a TOML key path (tomllib keeps no positions)."""
    keys = [str(k) for k in loc if isinstance(k, str)]
    if not keys:
        return 1
    lines = text.splitlines()
    section_start = 0
    # find the [a.b] header for the parent path, then the key in it
    for depth in range(len(keys) - 1, 0, -1):
        header = re.compile(r"^\s*\[+\s*" + r"\s*\.\s*".join(map(re.escape, keys[:depth])) + r"\s*\]+")
        for i, line in enumerate(lines):
            if header.match(line):
                section_start = i
                break
        else:
            continue
        break
    key = re.compile(r"^\s*[\"']?" + re.escape(keys[-1]) + r"[\"']?\s*=|^\s*\[+\s*" + re.escape(keys[-1]))
    for i in range(section_start, len(lines)):
        if key.match(lines[i]):
            return i + 1
    for i, line in enumerate(lines):
        if key.match(line):
            return i + 1
    return section_start + 1


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    text = path.read_text(encoding="utf-8")
    rel = path.name
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+), column (\d+)", str(exc))
        span = Span(rel, int(match.group(1)), int(match.group(2)), 1) if match else Span(rel, 1)
        raise FraiseQLError([error("FQL130", f"{rel} is not valid TOML: {exc}", span)]) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        diagnostics: list[Diagnostic] = []
        for item in exc.errors():
            loc = tuple(item["loc"])
            dotted = ".".join(str(p) for p in loc)
            span = Span(rel, _line_of(text, loc))
            if item["type"] == "extra_forbidden":
                diagnostics.append(
                    error("FQL131", f'unknown setting "{dotted}"', span, "remove it or check its spelling")
                )
            else:
                diagnostics.append(error("FQL132", f'invalid setting "{dotted}": {item["msg"]}', span))
        raise FraiseQLError(diagnostics) from None
    return config.model_copy(update={"path": path})
