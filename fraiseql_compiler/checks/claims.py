"""FQL235: a predicate's ``{jwt:<claim>}`` must name a claim some token can carry.

A claim reaches SQL only through the runtime's normalized claims: the standard ones (``sub``, ``scopes``,
``auth``, ``jti``, ``iat``, ``exp``, ``provider``, ``key_id``, ``static_key``), the ones mapped for
first-party tokens (``[auth.jwt] claims``) or for a provider (``[[security.providers]] claims``), and the
``[security] optional_claims``. Anything else is NULL for every caller, so a rule comparing it matches no
row and every user silently gets ``[]``: refused at build time. A mapped claim may be written as the
token names it (``{jwt:https://example.com/org_id}``); the SQL reads its mapped name.
"""

from __future__ import annotations

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.diagnostics import Diagnostic, diag, did_you_mean
from fraiseql_compiler.ir import ClaimUse, Schema
from fraiseql_compiler.settings import STANDARD_CLAIMS, ClaimSources


def _uses(schema: Schema) -> list[ClaimUse]:
    out = [use for t in schema.types for p in t.policies for use in p.claims]
    out += [use for q in schema.queries if q.row_filter is not None for use in q.row_filter.claims]
    return out


def _problem(use: ClaimUse, claims: ClaimSources) -> Diagnostic | None:
    name = use.name
    if name in STANDARD_CLAIMS or name in claims.supplied_by or name in claims.optional:
        return None
    mapped = claims.aliases.get(name, ())
    if len(mapped) == 1:
        return None
    if len(mapped) > 1:
        return diag(
            "FQL235",
            f'claim "{name}" is mapped under several names ({", ".join(mapped)}): {{jwt:{name}}} is ambiguous',
            use.span,
            f"write the mapped name, e.g. {{jwt:{mapped[0]}}}",
        )
    suggestion = did_you_mean(name, claims.known())
    key = name.rstrip("/").rsplit("/", 1)[-1].replace("-", "_").lower() if "/" in name or ":" in name else name
    mapping = f'claims = {{ {key if key.isidentifier() else "my_claim"} = "{name}" }}'
    return diag(
        "FQL235",
        f'no token carries claim "{name}": {{jwt:{name}}} would be NULL for every caller, so the rule would '
        "match no row",
        use.span,
        suggestion
        or f"map it from the tokens that carry it: {mapping} under [[security.providers]] (or [auth.jwt] for "
        "first-party tokens); or, if some tokens carry it under this exact name, list it in "
        "[security] optional_claims",
    )


def check_claims(schema: Schema, facts: Facts) -> list[Diagnostic]:
    claims = facts.settings.claims
    return [d for use in _uses(schema) if (d := _problem(use, claims)) is not None]
