"""Type hints the way real code writes them: postponed evaluation, forward references, Optional,
names defined later, a field named like its type, Annotated options, enums and input defaults."""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated

import fraiseql
from fraiseql.auth import authenticated, requires_scope
from fraiseql.scalars import ID, JSON, UUID, Decimal


@fraiseql.enum
class Status(enum.Enum):
    """Where an order is."""

    OPEN = "open"
    SHIPPED = "shipped"


@fraiseql.type(table="tb_order")
class Order:
    id: ID
    date: date  # a field named like its type
    status: Status
    total: Decimal
    note: str | None
    customer: Customer  # defined later in the module
    lines: list[OrderLine]
    order: Annotated[int, fraiseql.field(description="Position in the queue", column="queue_position")]
    meta: JSON | None
    legacy_code: Annotated[str | None, fraiseql.field(deprecation_reason="use id", name="code")]


@fraiseql.type(table="app.tb_customer", view="app.v_customer_card")
class Customer:
    id: ID
    name: str
    external_id: UUID | None


@fraiseql.type(table="tb_order_line")
class OrderLine:
    id: ID
    quantity: int
    price: float


@fraiseql.input
class OrderFilter:
    status: Status = Status.OPEN
    since: date | None = None
    tags: list[str] = []


@fraiseql.query(sql_source="v_order", row_filter="status = {arg:status} AND customer_id = {jwt:customer_id}")
@requires_scope("read:orders")
@authenticated
def orders(status: Status, limit: int = 10) -> list[Order]:
    """Orders of the caller's customer."""


@fraiseql.query(id_arg="id")
def order(info, id: ID) -> Order | None: ...


@authenticated
@fraiseql.mutation(function="app.fn_ship_order", name="shipIt")
def ship_order(info, id: ID, *, notify: bool = True, only: OrderFilter | None = None) -> Order: ...
