import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str
    body: str


@fraiseql.type(table="tb_post", view="v_post")
class PostSummary:
    id: ID
    title: str
