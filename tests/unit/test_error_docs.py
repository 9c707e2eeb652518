"""The diagnostics registry, the source and docs/errors agree: every registered code has its page (titled as
the registry titles it) and a row in the index; every code the source uses is registered; no page or
registered code is orphaned."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fraiseql_compiler.diagnostics.registry import CODES, FAMILY_TITLES, Code

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "errors"
PACKAGES = ("fraiseql", "fraiseql_compiler")
REGISTRY_FILE = REPO / "fraiseql_compiler" / "diagnostics" / "registry.py"
CODE_LITERAL = re.compile(r"""["'](FQL\d{3})["']""")
PAGE_NAME = re.compile(r"FQL\d{3}\.md")
SECTIONS = ("## When it happens", "## Example", "## Fix")


def used_codes() -> dict[str, list[str]]:
    """code → the source files (the registry aside) that contain it as a string literal."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if path == REGISTRY_FILE:
                continue
            for code in sorted(set(CODE_LITERAL.findall(path.read_text(encoding="utf-8")))):
                found.setdefault(code, []).append(path.relative_to(REPO).as_posix())
    return found


USED = used_codes()


def test_every_code_the_source_uses_is_registered() -> None:
    unregistered = {code: files for code, files in USED.items() if code not in CODES}
    assert not unregistered, f"codes used but not in diagnostics/registry.py: {unregistered}"


def test_every_registered_code_is_used() -> None:
    unused = sorted(set(CODES) - set(USED))
    assert not unused, f"registered codes that nothing reports: {unused}"


def test_codes_are_well_formed() -> None:
    for code in CODES.values():
        assert re.fullmatch(r"FQL[1-59]\d\d", code.id), code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code.name), code
        assert code.title.strip() == code.title and code.title, code
        assert not code.title.endswith("."), code
        assert code.suppressible == (code.severity == "warning" or code.family == "lint")


@pytest.mark.parametrize("code", list(CODES.values()), ids=list(CODES))
def test_every_registered_code_has_a_page(code: Code) -> None:
    page = REPO / code.doc
    assert page.exists(), f"{code.id} ({code.name}) has no page {code.doc}"
    text = page.read_text(encoding="utf-8")
    title = f"# {code.id}: {code.title}" + (" (warning)" if code.severity == "warning" else "")
    assert text.splitlines()[0] == title, f"{page.name} must start with `{title}`"
    missing = [s for s in SECTIONS if s not in text]
    assert not missing, f"{page.name} lacks the sections {missing}"
    family = f"*Family:* {code.family}"
    assert family in text, f"{page.name} must say `{family}`"


def test_no_page_is_orphaned() -> None:
    orphans = sorted({p.stem for p in DOCS.glob("FQL*.md")} - set(CODES))
    assert not orphans, f"docs/errors pages for codes the registry does not have: {orphans}"
    strays = sorted(p.name for p in DOCS.iterdir() if p.name != "README.md" and not PAGE_NAME.fullmatch(p.name))
    assert not strays, f"unexpected files in docs/errors: {strays}"


def test_index_lists_every_code_under_its_family_with_its_title() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| \[(FQL\d{3})\]\((FQL\d{3})\.md\) \| (.*) \|$", index, re.M)
    assert [r[0] for r in rows] == list(CODES), "README.md rows must follow the registry's order"
    for code, target, title in rows:
        entry = CODES[code]
        assert target == code
        expected = entry.title.replace("|", "\\|") + (" (warning)" if entry.severity == "warning" else "")
        assert title == expected, f"{code}: README says {title!r}, the registry {expected!r}"
    for code in CODES.values():
        heading = index.index(f"\n## {FAMILY_TITLES[code.family]}\n")
        assert heading < index.index(f"[{code.id}]"), f"{code.id} is listed before its family's heading"


def test_corpus_links_resolve() -> None:
    """Pages point at the tests/errors cases that show the real output; those folders must exist."""
    broken = [
        f"{page.name} → {target}"
        for page in sorted(DOCS.glob("*.md"))
        for target in re.findall(r"\]\(([^)#]+)\)", page.read_text(encoding="utf-8"))
        if not target.startswith(("http://", "https://")) and not (page.parent / target).exists()
    ]
    assert not broken, broken
