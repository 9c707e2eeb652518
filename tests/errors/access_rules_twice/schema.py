import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post", access={"anonymous": fraiseql.access(read="published")})
class Post:
    id: ID
    title: str
    published: bool


@fraiseql.type(table="tb_post", view="v_post_summary", access={"anonymous": fraiseql.access(read="true")})
class PostSummary:
    id: ID
    title: str
