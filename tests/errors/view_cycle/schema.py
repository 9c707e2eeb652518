import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str
    author: "User"


@fraiseql.type(table="tb_user")
class User:
    id: ID
    name: str
    posts: list[Post]
