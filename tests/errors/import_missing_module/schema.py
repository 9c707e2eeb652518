from fraiseql_extras import paginated

import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
@paginated(default_limit=20)
class Post:
    id: ID
    title: str
