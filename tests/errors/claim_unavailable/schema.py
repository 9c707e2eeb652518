import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_project", access={"authenticated": fraiseql.access(read="org_id = {jwt:org_id}")})
class Project:
    id: ID
    org_id: str
    name: str
