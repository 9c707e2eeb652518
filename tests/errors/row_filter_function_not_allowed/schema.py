import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str
    author_id: ID
    published: bool


@fraiseql.query(sql_source="v_post", row_filter="published or pg_sleep(1) is null")
def posts(limit: int = 20) -> list[Post]: ...
