"""Rows of a leg's pairs (contact, proxy number), found in one condition whose text does not
grow with the number of pairs on PostgreSQL: it is parsed and prepared once, and building it
costs next to nothing (an OR of one Q per pair cost more than the query it made)."""

from django.db import connection, models
from django.db.models.expressions import RawSQL


def pair_in(model: type[models.Model], pairs: set[tuple[int, int]]) -> RawSQL:
    """A filter: the row's (contact, proxy_number) is one of `pairs` (contact id, number id).
    Its columns are not qualified (a subquery renames its table): use it where no other
    table of the query has such columns."""
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(model._meta.get_field(name).column) for name in ("contact", "proxy_number")
    )
    ordered = sorted(pairs)
    if connection.vendor == "postgresql":
        sql = f"({columns}) IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))"  # noqa: S608
        params = [[contact for contact, _ in ordered], [number for _, number in ordered]]
    else:
        sql = f"({columns}) IN (VALUES {', '.join(['(%s, %s)'] * len(ordered))})"  # noqa: S608
        params = [value for pair in ordered for value in pair]
    return RawSQL(sql, params, output_field=models.BooleanField())  # noqa: S611
