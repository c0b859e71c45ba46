from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from relay.exceptions import RelayError


def exception_handler(exc, context):
    """Business rule refusals become 409/422 with the rule's own words."""
    if isinstance(exc, RelayError):
        data = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        return Response(data, status=exc.status_code)
    return drf_exception_handler(exc, context)
