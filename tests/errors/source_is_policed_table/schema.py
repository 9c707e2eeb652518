import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_user", access={"authenticated": fraiseql.access(read="true")})
class User:
    id: ID
    name: str


@fraiseql.query(sql_source="tb_user")
@fraiseql.authenticated
def users() -> list[User]: ...
