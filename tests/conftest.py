import pytest

from tests.relay.fake_graph import FakeGraph


@pytest.fixture
def whatsapp_api(httpserver, settings) -> FakeGraph:
    """A fake Graph API on 127.0.0.1; the relay's WHATSAPP_API_BASE points at it."""
    settings.WHATSAPP_API_BASE = httpserver.url_for("/v25.0")
    settings.RELAY_PROVIDER = "whatsapp"
    graph = FakeGraph(httpserver)
    yield graph
    httpserver.clear()


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Runs what would be queued after commit, as the worker would (tasks are inline in tests)."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def pytest_sessionstart(session) -> None:
    """CI must test against PostgreSQL, never silently against SQLite."""
    import os

    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("CI") == "true" and "postgresql" not in engine:
        pytest.exit(f"CI runs the tests on PostgreSQL; DATABASE_URL gives {engine}", returncode=1)
