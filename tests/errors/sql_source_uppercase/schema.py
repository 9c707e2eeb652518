import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str


@fraiseql.query(sql_source="V_Post")
def posts(limit: int = 20) -> list[Post]: ...
