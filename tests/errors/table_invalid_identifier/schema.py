import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post; drop table tb_user")
class Post:
    id: ID
    title: str
