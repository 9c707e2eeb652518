"""The scope rule in Python; tests/pg/test_scopes_sql.py holds the SQL function to the same cases."""

from __future__ import annotations

import pytest

from fraiseql_compiler.scopes import covers
from tests.scope_cases import CASES


@pytest.mark.parametrize(("granted", "required", "covered"), CASES)
def test_covers(granted: str, required: str, covered: bool) -> None:
    assert covers(granted, required) is covered
