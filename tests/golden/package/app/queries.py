import fraiseql

from .types import Author


@fraiseql.query
def authors(limit: int = 50) -> list[Author]: ...


@fraiseql.query(sql_source="v_book", row_filter="title ILIKE {arg:pattern} OR id IN ({arg:a}, {arg:b})")
def books(pattern: str, a: "ID", b: "ID") -> list["Book"]: ...
