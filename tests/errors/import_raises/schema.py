import os

import fraiseql
from fraiseql.scalars import ID

JWT_SECRET = os.environ["FRAISEQL_ERRORS_CORPUS_UNSET"]


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str
