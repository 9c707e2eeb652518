import fraiseql
from fraiseql.auth import authenticated, requires_scope
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str


@fraiseql.mutation
@authenticated
@requires_scope("WritePosts")
def create_post(info, title: str) -> Post: ...
