import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str


@fraiseql.type(table="tb_user")
class User:
    id: ID
    name: str


@fraiseql.query(sql_source="v_search")
def search(text: str) -> list[Post | User]: ...
