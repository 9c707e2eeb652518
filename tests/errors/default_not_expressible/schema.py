import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str
    tags: list[str]


@fraiseql.input
class CreatePostInput:
    title: str
    tags: list[str] = {"draft"}


@fraiseql.mutation
def create_post(info, input: CreatePostInput) -> Post: ...
