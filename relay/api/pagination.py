from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 2**53  # beyond any table; larger ones reach the database as out-of-range


class Pagination(LimitOffsetPagination):
    """`?limit=&offset=`: 50 by default, at most 500; anything else is a 400 that says so."""

    default_limit = 50
    max_limit = 500

    def get_limit(self, request) -> int:
        return self._bounded(request, self.limit_query_param, 1, self.max_limit, self.default_limit)

    def get_offset(self, request) -> int:
        return self._bounded(request, self.offset_query_param, 0, MAX_OFFSET, 0)

    def _bounded(self, request, name: str, low: int, high: int, default: int) -> int:
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise ValidationError({name: [f"must be a whole number from {low} to {high}"]})
        return value
