import fraiseql


@fraiseql.type
class Role:
    rolname: str
    rolpassword: str | None


@fraiseql.query(sql_source="pg_catalog.pg_authid")
def roles() -> list[Role]: ...
