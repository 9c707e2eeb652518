"""Validation: an ordered tuple of pure passes ``Schema -> list[Diagnostic]``; errors block the build."""

from __future__ import annotations

from collections.abc import Callable

from fraiseql_compiler.checks.access import check_access
from fraiseql_compiler.checks.names import check_graphql_names, check_identifiers, check_positions
from fraiseql_compiler.checks.operations import (
    check_auth_flows,
    check_id_args,
    check_query_arguments,
    check_row_filter_columns,
    check_scopes,
    check_sql_sources,
)
from fraiseql_compiler.checks.views import check_views
from fraiseql_compiler.errors import Diagnostic
from fraiseql_compiler.ir import Schema

Pass = Callable[[Schema], list[Diagnostic]]

PASSES: tuple[Pass, ...] = (
    check_identifiers,
    check_graphql_names,
    check_positions,
    check_sql_sources,
    check_id_args,
    check_scopes,
    check_row_filter_columns,
    check_query_arguments,
    check_auth_flows,
    check_views,
    check_access,
)


def validate(schema: Schema) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for check in PASSES:
        diagnostics.extend(check(schema))
    return diagnostics


__all__ = ["PASSES", "validate"]
