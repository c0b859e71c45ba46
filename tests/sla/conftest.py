from tests.relay.conftest import (  # noqa: F401 (fixtures the SLA tests share)
    api,
    open_session,
    partner,
    pool,
    post_webhook,
)
