import fraiseql
from fraiseql.scalars import ID


@fraiseql.type("tb_post")
class Post:
    id: ID
    title: str
