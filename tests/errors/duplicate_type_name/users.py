import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_user", name="Post")
class User:
    id: ID
    name: str
