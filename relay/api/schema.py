"""The OpenAPI schema declares the errors each endpoint can answer, so that clients generated
from it handle them: 400 and 401 everywhere, 404 where a path names an object, 409 and 422
where an endpoint says so (`errors(...)` in its extend_schema)."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """What is wrong: `detail`, or a list of reasons under each field that is wrong."""

    detail = serializers.CharField(required=False, help_text="What is wrong, in words.")


DESCRIPTIONS = {
    400: "The request is malformed; `detail` or the fields named say what is wrong.",
    401: "No valid API key: `Authorization: Bearer <api key>`.",
    404: "The object the path names does not exist.",
    409: "The request conflicts with the object's state (e.g. the session is closed).",
    415: "The body is not JSON.",
    422: "A business rule refused the request; `detail` or the field named says which.",
    429: "Too many requests for this API key; `Retry-After` says when to try again.",
    502: "WhatsApp could not be asked; `detail` says what it answered.",
}


def errors(*codes: int) -> dict:
    """Responses for extend_schema(responses=...), beside the success ones."""
    return {code: _error(code) for code in codes}


def _error(code: int) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[code])


class SwitchboardAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response") -> dict:
        responses = super()._get_response_bodies(direction)
        codes = [400, 401, 429]
        if "{" in self.path:
            codes.append(404)
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append(415)
        for code in codes:
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(_error(code), str(code))
        return responses
