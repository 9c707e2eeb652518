import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str
    tag: str


@fraiseql.query(sql_source="v_post")
def posts(*tag: str) -> list[Post]: ...
