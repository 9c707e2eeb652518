"""The diagnostics registry and the text rendering: registered codes only, related places, each file read
once, repeated warnings summarized."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from fraiseql_compiler.diagnostics import CODES, Related, Span, diag
from fraiseql_compiler.diagnostics.render import WARNINGS_PER_CODE, format_all


def _text(*args: object, **kwargs: object) -> str:
    console = Console(record=True, width=100, no_color=True, soft_wrap=True)  # as the CLI prints
    console.print(format_all(*args, **kwargs))  # type: ignore[arg-type]
    return console.export_text()


def test_diag_takes_the_severity_from_the_registry_and_refuses_unknown_codes() -> None:
    assert diag("FQL220", "m").severity == "warning"
    assert diag("FQL203", "m").severity == "error"
    with pytest.raises(KeyError, match="FQL999 is not a registered diagnostic code"):
        diag("FQL999", "m")
    assert all(code.doc == f"docs/errors/{code.id}.md" for code in CODES.values())


def test_related_places_are_rendered_as_notes(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("first = 1\nsecond = 2\n")
    d = diag(
        "FQL202",
        'duplicate type name "A"',
        Span("a.py", 2, 1, 6),
        "rename one",
        (Related(Span("a.py", 1, 1, 5), "first defined here"),),
    )
    assert _text([d], tmp_path) == (
        'error[FQL202]: duplicate type name "A"\n'
        " --> a.py:2:1\n  |\n2 | second = 2\n  | ^^^^^^\n"
        "note: first defined here\n"
        " --> a.py:1:1\n  |\n1 | first = 1\n  | ^^^^^\n"
        "hint: rename one\n\n1 error; nothing was written.\n"
    )


def test_many_warnings_of_one_code_are_summarized_and_each_file_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"T{i} = {i}" for i in range(1000)]
    (tmp_path / "schema.py").write_text("\n".join(lines) + "\n")
    warnings = [diag("FQL220", f"T{i} declares no access rule", Span("schema.py", i + 1, 1, 2)) for i in range(1000)]
    reads: list[str] = []
    original = Path.read_text

    def counting(self: Path, *args: object, **kwargs: object) -> str:
        reads.append(self.name)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counting)
    text = _text(warnings, tmp_path, show_all_hint="pass --all-warnings")
    assert reads == ["schema.py"]
    assert text.count("warning[FQL220]: T") == WARNINGS_PER_CODE
    assert text.rstrip().endswith(
        f"warning[FQL220]: {1000 - WARNINGS_PER_CODE} more warnings like these "
        "(table-backed type without an access rule); pass --all-warnings"
    )
    everything = _text(warnings, tmp_path, warnings_per_code=None)
    assert everything.count("warning[FQL220]: T") == 1000
    assert reads == ["schema.py", "schema.py"]  # once per rendering


def test_a_span_without_a_line_names_the_file() -> None:
    assert str(Span("time.py", 0)) == "time.py"
    assert str(Span("a.py", 3)) == "a.py:3" and str(Span("a.py", 3, 7, 2)) == "a.py:3:7"


def test_the_caret_stays_under_its_text_when_the_line_has_tabs(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("\tx = 'bad'\n")
    text = _text([diag("FQL203", "m", Span("t.py", 1, 6, 5))], tmp_path)
    shown, caret = text.splitlines()[3:5]
    assert shown == "1 |     x = 'bad'"
    assert caret.index("^") == shown.index("'bad'") and caret.count("^") == 5


def test_plain_text_is_what_rich_prints_without_colours(tmp_path: Path) -> None:
    """The CLI writes plain text when stderr is not a terminal (rich is not even imported): the same text."""
    from fraiseql_compiler.diagnostics.render import format_plain

    (tmp_path / "t.py").write_text("\tx = 'bad'\nsecond = 2\n")
    diagnostics = [
        diag("FQL203", "m", Span("t.py", 1, 6, 5), "a hint", (Related(Span("t.py", 2, 1, 6), "see"),)),
        *(diag("FQL220", f"w{i}", Span("t.py", 2, 1, 1)) for i in range(7)),
        diag("FQL106", "no span"),
    ]
    for kwargs in ({}, {"warnings_per_code": None}, {"show_all_hint": "more"}):
        assert format_plain(diagnostics, tmp_path, **kwargs) == _text(diagnostics, tmp_path, **kwargs)
