from rest_framework.throttling import SimpleRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    """API_RATE_LIMIT requests per API key (429 with Retry-After beyond it). Counted in the
    cache: set CACHE_URL to a shared one (Redis, the database) when several processes serve."""

    scope = "api_key"

    def get_cache_key(self, request, view) -> str:
        ident = request.auth.pk if request.auth is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
