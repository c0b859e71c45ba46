from tests.relay.conftest import api  # noqa: F401 (the API client the SLA tests share)
