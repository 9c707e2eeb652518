import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post", access={
    "authenticated": fraiseql.access(read="autor_id = {current_user_id}"),
})
class Post:
    id: ID
    title: str
    author_id: ID
