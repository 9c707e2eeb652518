import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str


@fraiseql.query(sql_source="v_post", id_arg=1)
def post(id: ID) -> Post | None: ...
