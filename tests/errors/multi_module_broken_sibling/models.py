import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str

@fraiseql.type(table="tb_user", naem="Author")
class User:
    id: ID
