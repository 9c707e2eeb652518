from typing import Annotated

import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str
    headline: Annotated[str, fraiseql.field(name="title")]
