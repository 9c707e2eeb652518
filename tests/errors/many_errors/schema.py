import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str
    tags: set[str]
    author: "Usr"


@fraiseql.query(sql_source="v_post", id_arg="slug")
def posts(limit=20) -> list[Post]: ...
