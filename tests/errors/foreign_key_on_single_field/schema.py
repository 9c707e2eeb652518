from typing import Annotated

import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_user")
class User:
    id: ID
    name: str


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str
    author: Annotated[User, fraiseql.field(foreign_key="author_id")]
