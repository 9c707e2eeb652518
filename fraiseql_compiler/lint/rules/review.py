"""Access review: what a change does to who may do what, against a baseline manifest."""

from __future__ import annotations

from collections.abc import Iterator

from fraiseql_compiler.diagnostics import Diagnostic
from fraiseql_compiler.lint.rule import Context, Rule


class AccessWidened(Rule):
    """Access widened since the baseline, and nobody acknowledged it.

    Given a baseline manifest (``--baseline`` with the committed build's manifest, or the base branch's,
    or ``[lint] baseline``), lint compares who may run each operation and what each policy lets
    through with what this schema builds to: an identity that gains an operation, a row filter removed or
    changed, a policy added or its predicate changed. A widening is deliberate only when a reviewer says so:
    add the id it prints to ``[lint] acknowledge`` in the same pull request, where the change is reviewed.
    ``fraiseql access --diff`` prints the whole difference, narrowing included.

    *Anti-pattern*: removing ``@authenticated`` from a query in a refactoring, unnoticed.

    *Best practice*: ``acknowledge = ["query.posts anonymous"]`` next to the change that means it.
    """

    code = "FQL323"
    needs = "baseline"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        from fraiseql_compiler.access.diff import access_diff
        from fraiseql_compiler.manifest.io import load

        if ctx.baseline is None:
            return
        old = load(ctx.baseline)
        acknowledged = set(ctx.analysis.config.lint.acknowledge)
        for change in access_diff(old, ctx.manifest).widenings:
            if change.id in acknowledged:
                continue
            yield self.diag(
                f"access widened: {change.message} [{change.id}]",
                ctx.config_span("lint", "acknowledge") if ctx.written("lint") else None,
                f'if intended, add "{change.id}" to [lint] acknowledge in fraiseql.toml',
            )


RULES = (AccessWidened,)
