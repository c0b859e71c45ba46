from django.http import Http404
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from relay.exceptions import RelayError


def exception_handler(exc, context):
    """Business rule refusals become 409/422 with the rule's own words; a missing object is
    named as the API names it ("session not found"), never by its model."""
    if isinstance(exc, RelayError):
        data = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        return Response(data, status=exc.status_code)
    if isinstance(exc, Http404):
        resource = getattr(context.get("view"), "basename", None) or "resource"
        return Response({"detail": f"{resource} not found"}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)
