import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_user", access={"authenticated": fraiseql.access(read="true")})
class User:
    id: ID
    name: str
    password_hash: str
