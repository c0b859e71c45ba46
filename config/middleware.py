from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL = "\x00"


class RefuseNulMiddleware:
    """A NUL character in a path or a query string can reach no column (PostgreSQL refuses
    it in text): it is a 400, said in the API's own form where the API was asked."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path or any(
            NUL in key or any(NUL in value for value in values)
            for key, values in request.GET.lists()
        ):
            reason = "NUL characters are not allowed in the address or its query"
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": reason}, status=400)
            return HttpResponseBadRequest(reason, content_type="text/plain")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Every page says where its scripts, styles and frames may come from (our own static
    files only): an injected script has nowhere to load from."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
