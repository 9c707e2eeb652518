import fraiseql
from fraiseql.scalars import ID


@fraiseql.query(sql_source="v_post")
class Posts:
    id: ID
