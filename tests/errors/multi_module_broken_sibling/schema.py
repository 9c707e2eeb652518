from models import Post

import fraiseql


@fraiseql.query(sql_source="v_post")
def posts(limit: int = 20) -> list[Post]: ...
