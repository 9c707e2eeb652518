import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str


@fraiseql.query(sql_source="v_post")
def posts(limit: int = 20) -> list[Post]: ...


@fraiseql.query(sql_source="v_post", name="posts")
def recent_posts(limit: int = 5) -> list[Post]: ...
