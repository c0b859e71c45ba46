class RelayError(Exception):
    """A business rule refused the request; the message says which, in plain words."""

    status_code = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PoolExhausted(RelayError):
    status_code = 409


class SessionNotLive(RelayError):
    status_code = 409


class NotFound(RelayError):
    status_code = 404
