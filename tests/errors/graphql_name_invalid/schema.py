import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_item", access={"authenticated": fraiseql.access(read="true")})
class Item:
    id: ID
    name: str


@fraiseql.query(sql_source="v_item", name="all items")
def all_items(limit: int = 20) -> list[Item]: ...
