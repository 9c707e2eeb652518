"""The peer of build_scale.generate(): the same schema written for strawberry-graphql.

Same types (T0..T{n-1}: id, name, count, created_at, note, parent -> the previous type) and the same
operations with the same names and return types (q{j} -> list[T{j % n}] for even j, m{j} -> T{j % n} for odd
j), as resolvers on one Query and one Mutation class. The generated script builds ``strawberry.Schema`` and
writes its SDL (``strawberry.printer.print_schema``) to ``schema.graphql`` in the current directory, which is
strawberry's equivalent of a build. Not expressed: fraiseql's tables/views, row filters and the
@authenticated/@requiresScope directives (strawberry has no SQL side; that work is ours alone).
"""

from __future__ import annotations

import importlib.util

INSTALL_HINT = 'pip install -e ".[bench]"  (or: pip install strawberry-graphql)'


def strawberry_available() -> bool:
    return importlib.util.find_spec("strawberry") is not None


def generate_strawberry(types: int, operations: int) -> str:
    lines = [
        "from datetime import datetime",
        "from typing import Optional",
        "",
        "import strawberry",
        "from strawberry.printer import print_schema",
        "",
    ]
    for i in range(types):
        lines += [
            "@strawberry.type",
            f"class T{i}:",
            "    id: strawberry.ID",
            "    name: str",
            "    count: int",
            "    created_at: datetime",
            "    note: Optional[str]",
        ]
        if i:
            lines.append(f"    parent: T{i - 1}")
        lines.append("")
    queries = ["@strawberry.type", "class Query:"]
    mutations = ["@strawberry.type", "class Mutation:"]
    for j in range(operations):
        i = j % types
        if j % 2 == 0:
            queries += [
                "    @strawberry.field",
                f"    def q{j}(self, min_count: int = 0, limit: int = 20) -> list[T{i}]:",
                "        return []",
                "",
            ]
        else:
            mutations += [
                "    @strawberry.mutation",
                f"    def m{j}(self, name: str, count: int = 1) -> T{i}:",
                "        raise NotImplementedError",
                "",
            ]
    lines += [*queries, "", *mutations, ""]
    lines += [
        "schema = strawberry.Schema(query=Query, mutation=Mutation)",
        "sdl = print_schema(schema)",
        'with open("schema.graphql", "w", encoding="utf-8") as f:',
        "    f.write(sdl)",
        'print(f"wrote schema.graphql: {len(sdl)} characters")',
        "",
    ]
    return "\n".join(lines)
