import fraiseql
from fraiseql.scalars import ID


@fraiseql.type
class Tag:
    label: str


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str
    tags: list[Tag]
