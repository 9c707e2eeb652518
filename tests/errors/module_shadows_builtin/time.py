import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_entry")
class Entry:
    id: ID
    hours: float
