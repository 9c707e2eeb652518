import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_author")
class Author:
    id: ID
    name: str
    books: list["Book"]


@fraiseql.type(table="tb_book")
class Book:
    id: ID
    title: str
