"""`Idempotency-Key` on writes from the booking system, kept 24 hours per API key: a repeat
answers as the first did and changes nothing; the same key with another request is 422; one
that comes while the first is still running is 409. The answer is stored in the transaction
of the change, so the two cannot part; a request refused as bad input (400) or failing is
not stored, and may be sent again with the same key."""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from crm_sync.models import IdempotencyKey

KEPT = timedelta(hours=24)
HEADER = "Idempotency-Key"


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "this Idempotency-Key was sent with another request; use a new key"


class StillRunning(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "the first request with this Idempotency-Key is still running; retry soon"


def idempotent(request: Request, run: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return run()
    if not key.strip() or len(key) > 255:
        raise ValidationError({HEADER: ["give from 1 to 255 characters"]})
    fingerprint = hashlib.sha256(
        f"{request.method} {request.path}\n{json.dumps(request.data, sort_keys=True)}".encode()
    ).hexdigest()
    api_key = request.auth
    IdempotencyKey.objects.filter(
        api_key=api_key, key=key, created_at__lt=timezone.now() - KEPT
    ).delete()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                api_key=api_key, key=key, fingerprint=fingerprint
            )
    except IntegrityError:
        return _repeat(IdempotencyKey.objects.get(api_key=api_key, key=key), fingerprint)
    try:
        with transaction.atomic():
            response = run()
            if response.status_code < 400:
                IdempotencyKey.objects.filter(pk=record.pk).update(
                    status_code=response.status_code, answer=response.data
                )
    except Exception:
        record.delete()  # nothing changed: the same key may try again
        raise
    if response.status_code >= 400:
        record.delete()
    return response


def _repeat(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise KeyReused()
    if record.status_code is None:
        raise StillRunning()
    return Response(
        record.answer, status=record.status_code, headers={"Idempotent-Replayed": "true"}
    )
