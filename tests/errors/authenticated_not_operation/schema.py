import fraiseql
from fraiseql.auth import authenticated
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str


@authenticated
def posts_for_admin(limit: int = 20) -> list[Post]: ...
