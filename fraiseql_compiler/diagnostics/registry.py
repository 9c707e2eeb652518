"""Every diagnostic code the compiler can report, in one registry (as ruff keeps its rule codes).

A code has a stable id (``FQL203``) and name (``row-filter-unknown-column``), a one-line title (the title of
its page in ``docs/errors/``), a family (from its number), a default severity, and whether a
``# fraiseql: ignore[...]`` comment may silence it. A code is used for one problem only: a new problem gets
a new code. Diagnostics are made through :func:`fraiseql_compiler.diagnostics.diag`, which refuses a code
that is not registered here; the docs test reads this registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
Family = Literal[
    "authoring", "configuration", "command-line input", "validation", "lint", "migrate", "access tests", "internal"
]

# (first id, family): a family runs up to the next entry's first id.
FAMILY_RANGES: tuple[tuple[int, Family], ...] = (
    (100, "authoring"),  # decorators, loading schema modules
    (130, "configuration"),  # fraiseql.toml
    (140, "command-line input"),  # output directory, init, token, query
    (200, "validation"),  # the schema as a whole
    (300, "lint"),
    (400, "migrate"),
    (500, "access tests"),  # fraiseql test
    (900, "internal"),
)
FAMILY_TITLES: dict[Family, str] = {
    "authoring": "Authoring and loading",
    "configuration": "Configuration",
    "command-line input": "Command-line input",
    "validation": "Validation",
    "lint": "Lint",
    "migrate": "Migrate",
    "access tests": "Access tests",
    "internal": "Internal",
}


@dataclass(frozen=True)
class Code:
    id: str
    name: str
    title: str
    severity: Severity = "error"
    external: str | None = None  # a pass-through code's documentation (squawk:<rule>), not ours

    @property
    def family(self) -> Family:
        if self.external is not None:
            return "lint"
        number = int(self.id[3:])
        return next(family for start, family in reversed(FAMILY_RANGES) if number >= start)

    @property
    def suppressible(self) -> bool:
        """Warnings, and every lint rule (a judgement, which a reviewed comment may overrule); never another
        error: it means the output would be wrong."""
        return self.severity == "warning" or self.family == "lint"

    @property
    def doc(self) -> str:
        """The page that explains it, relative to the repository (and to the source distribution)."""
        return self.external or f"docs/errors/{self.id}.md"


def _codes(*codes: Code) -> dict[str, Code]:
    out: dict[str, Code] = {}
    for code in codes:
        assert code.id not in out and code.name not in {c.name for c in out.values()}, code
        out[code.id] = code
    return out


CODES: dict[str, Code] = _codes(
    # 1xx: authoring (decorators), loading modules, configuration, and the commands' own input
    Code("FQL101", "unknown-decorator-keyword", "Unknown decorator keyword"),
    Code("FQL102", "decorator-wrong-target", "Decorator used on the wrong kind of object"),
    Code("FQL103", "missing-return-annotation", "Query or mutation without a return annotation"),
    Code("FQL104", "schema-syntax-error", "Python syntax error in a schema module"),
    Code("FQL105", "schema-import-failed", "Schema module failed to import"),
    Code("FQL106", "no-schema", "No schema to compile"),
    Code("FQL107", "invalid-decorator-option", "Invalid value for a decorator option"),
    Code("FQL108", "field-as-default", "fraiseql.field(...) used as a default value"),
    Code("FQL109", "auth-decorator-without-operation", "Auth decorator on a function that is not a query or mutation"),
    Code("FQL110", "positional-decorator-argument", "Decorator given a positional argument"),
    Code("FQL111", "requires-scope-without-scope", "requires_scope without a scope"),
    Code("FQL112", "schema-module-shadowed", "Schema module named like an installed module"),
    Code("FQL130", "config-invalid-toml", "fraiseql.toml is not valid TOML"),
    Code("FQL131", "config-unknown-setting", "Unknown setting in fraiseql.toml"),
    Code("FQL132", "config-invalid-value", "Invalid setting value in fraiseql.toml"),
    Code("FQL133", "config-secret", "Secret written in fraiseql.toml"),
    Code("FQL134", "config-unenforced-setting", "Setting refused because nothing enforces it"),
    Code("FQL140", "output-directory-refused", "Output directory refused"),
    Code("FQL150", "init-would-overwrite", "fraiseql init would overwrite a file"),
    Code("FQL160", "manifest-unreadable", "The manifest cannot be read"),
    Code("FQL161", "invalid-duration", "Invalid duration"),
    Code("FQL162", "token-not-minted", "A token cannot be minted"),
    Code("FQL163", "invalid-variable", "A --var is not k=v"),
    Code("FQL164", "no-database", "No database to run against"),
    Code("FQL165", "database-unreachable", "Cannot connect to the database"),
    Code("FQL166", "unknown-lint-rule", "Unknown lint rule"),
    # 2xx: validation of the schema as a whole
    Code("FQL201", "unknown-type", "Unknown type"),
    Code("FQL202", "duplicate-definition", "Two definitions with the same name"),
    Code("FQL203", "row-filter-unknown-column", "row_filter references an unknown column"),
    Code("FQL204", "invalid-sql-identifier", "Invalid SQL identifier"),
    Code("FQL205", "unknown-id-arg", "id_arg names neither an argument nor a field"),
    Code("FQL206", "unsupported-type-hint", "Unsupported type hint"),
    Code("FQL207", "unsupported-union", "Union other than X | None"),
    Code("FQL208", "malformed-scope", "Scope is not of the form action:resource"),
    Code("FQL209", "predicate-not-allowed", "Predicate is not an allowed expression"),
    Code("FQL210", "bad-placeholder", "Bad placeholder in a predicate"),
    Code("FQL211", "view-cycle", "Generated views embed each other"),
    Code("FQL212", "query-without-source", "Query has no source"),
    Code("FQL213", "list-of-untabled-type", "List field of a type that is not table-backed"),
    Code("FQL214", "ignored-argument", "Query argument would be ignored"),
    Code("FQL215", "access-without-table", "Access rules on a type without a table"),
    Code("FQL216", "access-unknown-role", "Access rule for an unknown role"),
    Code("FQL217", "auth-flow-missing-argument", "Auth mutation lacks an argument its auth function needs"),
    Code("FQL218", "undecorated-type", "Class or enum used as a type is not decorated"),
    Code("FQL219", "argument-without-hint", "Argument without a type hint"),
    Code("FQL220", "table-without-access", "Table-backed type without an access rule", "warning"),
    Code("FQL221", "variadic-parameter", "*args or **kwargs on a query or mutation"),
    Code("FQL222", "inexpressible-default", "Default value that GraphQL cannot express"),
    Code("FQL223", "wrong-position", "Input type used as output, or object type used as input"),
    Code("FQL224", "graphql-field-clash", "Two fields map to the same GraphQL name"),
    Code("FQL225", "view-name-clash", "Two types generate the same view"),
    Code("FQL226", "row-filter-unknown-argument", "row_filter names an argument the query does not have"),
    Code("FQL227", "foreign-key-on-single-field", "foreign_key on a field that is not a list of objects"),
    Code("FQL228", "access-unknown-column", "Access rule references an unknown column"),
    Code("FQL229", "invalid-graphql-name", "Invalid GraphQL name"),
    Code("FQL230", "credential-column-exposed", "Field on an [auth.login] credential column"),
    Code("FQL231", "access-rules-twice", "Two types declare access rules for one table"),
    Code("FQL232", "reserved-schema", "Source, table or function in a schema that is not the user's to expose"),
    Code("FQL233", "source-is-policed-table", "Query reads a column-granted table directly"),
    Code("FQL234", "source-without-access-rule", "Query reads a relation no access= rule covers", "warning"),
    Code("FQL235", "claim-unavailable", "Predicate reads a claim no token carries"),
    Code("FQL236", "unenforced-flow-guard", "Guard decorator on an auth-flow mutation"),
    Code("FQL237", "api-keys-not-accepted", "API-key mutation while the runtime accepts no database keys", "warning"),
    Code("FQL238", "public-with-guard", "Operation declared public and guarded"),
    Code("FQL240", "unknown-order-field", "Default order names a field that is not a sortable column"),
    Code("FQL241", "field-cannot-page", "order= or filter= on a field that cannot be ordered or filtered that way"),
    Code("FQL242", "paging-misplaced", "Paging option on a single-row query, or keyset paging without a key"),
    Code("FQL243", "paging-argument", "Paging argument declared wrongly, or a default page over the maximum"),
    Code("FQL244", "paging-name-clash", "A type paging generates has the name of one of the schema's"),
    # 3xx: lint (warnings)
    Code("FQL301", "provider-issuer-convention", "Provider issuer against its provider's convention", "warning"),
    Code("FQL302", "static-api-keys", "Static API keys configured", "warning"),
    Code("FQL303", "ineffective-suppression", "Suppression comment that has no effect", "warning"),
    # fraiseql lint: auth coverage
    Code("FQL304", "mutation-without-auth", "Mutation without an auth decorator or @fraiseql.public"),
    Code("FQL305", "sensitive-fields-without-auth", "Query returns sensitive-looking fields without authentication"),
    Code("FQL306", "scope-without-authenticated", "requires_scope without @authenticated", "warning"),
    Code("FQL307", "undeclared-scope", "Scope not declared in [security] scopes"),
    Code("FQL308", "api-key-operation-keys-disabled", "api_key_required while API keys are disabled"),
    # fraiseql lint: row access
    Code("FQL309", "unconditional-write-rule", "Write rule that admits every row"),
    Code("FQL310", "fail-open-predicate", "Predicate that admits rows when the identity is missing"),
    Code("FQL311", "unindexed-filter-column", "Row filter or policy compares a column that has no index", "warning"),
    Code("FQL312", "unbounded-list-query", "List query with a very large maximum page", "warning"),
    # fraiseql lint: configuration
    Code("FQL313", "short-jwt-secret", "JWT secret shorter than 32 bytes"),
    Code("FQL314", "token-audience-unchecked", "Tokens accepted without an audience check"),
    Code("FQL315", "jwt-algorithm-not-pinned", "JWT algorithm not pinned", "warning"),
    Code("FQL316", "revocation-fails-open", "Token revocation fails open"),
    Code("FQL317", "cors-wildcard", "CORS allows every origin", "warning"),
    Code("FQL318", "long-token-lifetime", "Very long token lifetime", "warning"),
    # fraiseql lint: schema hygiene
    Code("FQL319", "naming-convention", "Name against the naming conventions", "warning"),
    Code("FQL320", "missing-docstring", "Operation without a description", "warning"),
    Code("FQL321", "unused-definition", "Type, input or enum that no operation uses", "warning"),
    Code("FQL322", "deprecated-in-use", "Deprecated field still referenced", "warning"),
    # fraiseql lint: access review
    Code("FQL323", "access-widened", "Access widened since the baseline"),
    # fraiseql lint --database: the catalog
    Code("FQL330", "rls-disabled-with-policies", "Table with policies but row-level security off"),
    Code("FQL331", "view-without-security-invoker", "View readable by an API role without security_invoker"),
    Code("FQL332", "function-search-path-unpinned", "Function without a pinned search_path"),
    Code("FQL333", "security-definer-exposed", "SECURITY DEFINER function executable by an API role"),
    Code("FQL334", "policy-unwrapped-helper", "Policy calls a helper per row", "warning"),
    Code("FQL335", "policy-column-unindexed", "Policy compares a column that has no index", "warning"),
    Code("FQL336", "multiple-permissive-policies", "Several permissive policies for one role and action", "warning"),
    # 9xx: internal
    Code("FQL400", "build-not-applicable", "The build cannot be applied as it is"),
    Code("FQL401", "migrate-no-database", "No database to migrate"),
    Code("FQL402", "migration-history-conflict", "An applied migration was edited, removed or reordered"),
    Code("FQL403", "drift", "An object was changed by hand since migrate made it"),
    Code("FQL404", "hazard", "The plan needs consent for a hazard"),
    Code("FQL405", "roles-cannot-be-created", "Roles are missing and cannot be created"),
    Code("FQL406", "credential-tables-owner", "The credential tables belong to another role"),
    Code("FQL407", "statement-failed", "A statement failed; nothing was applied"),
    Code("FQL408", "lock-wait", "Waited too long for a lock"),
    Code("FQL409", "claims-key", "No claims key for the database, or not a key"),
    # 5xx: fraiseql test (access cases)
    Code("FQL500", "case-file-invalid", "An access case file is not valid"),
    Code("FQL501", "case-unknown-operation", "An access case runs an operation the schema does not have"),
    Code("FQL502", "case-unknown-identity", "An access case runs as an identity no file declares"),
    Code("FQL503", "case-unknown-name", "An access case names an argument, field or expectation that does not exist"),
    Code("FQL504", "case-identity-or-data-invalid", "An identity or the data of a case file is not valid"),
    Code("FQL505", "case-database", "No database to run the access cases on"),
    Code("FQL900", "internal-error", "Internal error"),
)


# Findings of other tools that lint runs, reported under their own rule names: ``squawk:<rule>``.
PASS_THROUGH: dict[str, tuple[str, str]] = {
    "squawk:": ("squawk (PostgreSQL migration linter)", "https://squawkhq.com/docs/{rule}"),
}


def lookup(code: str) -> Code:
    try:
        return CODES[code]
    except KeyError:
        for prefix, (tool, doc) in PASS_THROUGH.items():
            rule = code.removeprefix(prefix)
            if code.startswith(prefix) and rule:
                return Code(code, rule, f"{tool}: {rule}", "warning", external=doc.format(rule=rule))
        raise KeyError(f"{code} is not a registered diagnostic code (see diagnostics/registry.py)") from None
