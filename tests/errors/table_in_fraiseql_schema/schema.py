import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="fraiseql.tb_api_key", access={"anonymous": fraiseql.access(read="true")})
class ApiKeyRow:
    id: ID
    name: str
