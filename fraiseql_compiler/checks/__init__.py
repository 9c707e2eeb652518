"""Validation: an ordered tuple of pure passes ``(Schema, Facts) -> list[Diagnostic]``; errors block the build."""

from __future__ import annotations

from collections.abc import Callable

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.checks.access import check_access, check_roles, check_tables
from fraiseql_compiler.checks.claims import check_claims
from fraiseql_compiler.checks.graphql import check_graphql_names, check_positions, check_view_names
from fraiseql_compiler.checks.names import check_identifiers
from fraiseql_compiler.checks.operations import (
    check_auth_flows,
    check_id_args,
    check_public,
    check_query_arguments,
    check_row_filter_columns,
    check_scopes,
    check_sql_sources,
)
from fraiseql_compiler.checks.paging import check_field_paging, check_paging_names, check_query_paging
from fraiseql_compiler.checks.sources import check_query_sources, check_reserved_schemas
from fraiseql_compiler.checks.views import check_views
from fraiseql_compiler.diagnostics import Diagnostic
from fraiseql_compiler.ir import Schema

Pass = Callable[[Schema, Facts], list[Diagnostic]]

PASSES: tuple[Pass, ...] = (
    check_identifiers,
    check_graphql_names,
    check_view_names,
    check_positions,
    check_sql_sources,
    check_reserved_schemas,
    check_query_sources,
    check_id_args,
    check_public,
    check_scopes,
    check_row_filter_columns,
    check_query_arguments,
    check_field_paging,
    check_query_paging,
    check_paging_names,
    check_auth_flows,
    check_views,
    check_access,
    check_tables,
    check_roles,
    check_claims,
)


def validate(schema: Schema, facts: Facts) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for check in PASSES:
        diagnostics.extend(check(schema, facts))
    return diagnostics


__all__ = ["PASSES", "Pass", "validate"]
