"""Every error code the code base can emit has a page in docs/errors/, and every page belongs to a code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "errors"
PACKAGES = ("fraiseql", "fraiseql_compiler")
CODE_LITERAL = re.compile(r"""["'](FQL\d{3})["']""")
PAGE_NAME = re.compile(r"FQL\d{3}\.md")
SECTIONS = ("## When it happens", "## Example", "## Fix")


def emitted_codes() -> dict[str, list[str]]:
    """code → the source files that contain it as a string literal."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for code in sorted(set(CODE_LITERAL.findall(path.read_text(encoding="utf-8")))):
                found.setdefault(code, []).append(path.relative_to(REPO).as_posix())
    return found


def documented_codes() -> set[str]:
    return {p.stem for p in DOCS.glob("FQL*.md")}


CODES = emitted_codes()


def test_the_source_emits_codes() -> None:
    # guards the regex: an empty set would make every other test here pass vacuously
    assert len(CODES) >= 20, sorted(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_emitted_code_has_a_page(code: str) -> None:
    page = DOCS / f"{code}.md"
    assert page.exists(), f"{code} (used in {', '.join(CODES[code])}) has no page {page.relative_to(REPO)}"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {code}: "), f"{page.name} must start with a title `# {code}: ...`"
    missing = [s for s in SECTIONS if s not in text]
    assert not missing, f"{page.name} lacks the sections {missing}"


def test_no_page_is_orphaned() -> None:
    orphans = sorted(documented_codes() - set(CODES))
    assert not orphans, f"docs/errors pages for codes the source never emits: {orphans}"
    strays = sorted(p.name for p in DOCS.iterdir()
                    if p.name != "README.md" and not PAGE_NAME.fullmatch(p.name))
    assert not strays, f"unexpected files in docs/errors: {strays}"


def test_index_links_every_page() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((FQL\d{3})\.md\)", index))
    assert linked == documented_codes(), {
        "pages missing from README.md": sorted(documented_codes() - linked),
        "README.md links to missing pages": sorted(linked - documented_codes()),
    }


def test_corpus_links_resolve() -> None:
    """Pages point at the tests/errors cases that show the real output; those folders must exist."""
    broken = [
        f"{page.name} → {target}"
        for page in sorted(DOCS.glob("*.md"))
        for target in re.findall(r"\]\(([^)#]+)\)", page.read_text(encoding="utf-8"))
        if not target.startswith(("http://", "https://")) and not (page.parent / target).exists()
    ]
    assert not broken, broken
