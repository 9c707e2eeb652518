import enum

import fraiseql
from fraiseql.scalars import ID


class Status(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    status: Status
