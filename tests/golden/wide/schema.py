import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_wide")
class Wide:
    id: ID
    user: str
    f000: int
    f001: int
    f002: int
    f003: int
    f004: int
    f005: int
    f006: int
    f007: int
    f008: int
    f009: int
    f010: int
    f011: int
    f012: int
    f013: int
    f014: int
    f015: int
    f016: int
    f017: int
    f018: int
    f019: int
    f020: int
    f021: int
    f022: int
    f023: int
    f024: int
    f025: int
    f026: int
    f027: int
    f028: int
    f029: int
    f030: int
    f031: int
    f032: int
    f033: int
    f034: int
    f035: int
    f036: int
    f037: int
    f038: int
    f039: int
    f040: int
    f041: int
    f042: int
    f043: int
    f044: int
    f045: int
    f046: int
    f047: int
    f048: int
    f049: int
    f050: int
    f051: int
    f052: int
    f053: int
    f054: int
    f055: int
    f056: int
    f057: int
    f058: int
    f059: int


@fraiseql.query(row_filter="user = {current_user_id} AND f001 > 0")
def wides() -> list[Wide]: ...
