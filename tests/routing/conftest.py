import pytest

from relay.choices import NumberKind
from routing.models import Workflow
from tests.conftest import migrated_rows
from tests.relay.conftest import (  # noqa: F401 (fixtures the routing tests share)
    api,
    open_session,
    partner,
    pool,
    post_webhook,
    session,
)
from tests.relay.factories import PoolFactory, ProxyNumberFactory, TemplateFactory

BUYER = "+14155550123"
MANAGER = "+919800000001"
PRODUCTION = "+919800000002"
INTAKE = "+15550002000"


@pytest.fixture
def intake_pool(db):
    """An intake number customers write to first, and relay numbers for partners."""
    intake = PoolFactory(name="intake")
    ProxyNumberFactory(
        pool=intake,
        e164=INTAKE,
        phone_number_id="2000",
        kind=NumberKind.INTAKE,
        intake_workflow="export-feedback",
    )
    ProxyNumberFactory(pool=intake, e164="+15550002001", phone_number_id="2001")
    ProxyNumberFactory(pool=intake, e164="+15550002002", phone_number_id="2002")
    return intake


@pytest.fixture
def opening_templates(db):
    """Approved opening templates for the demo workflows, as a sync would store them."""
    for name in ("new_booking", "buyer_feedback", "new_inquiry", "interview_match"):
        TemplateFactory(
            name=name,
            body="{{1}}: new request {{2}} from {{3}}. Reply here to answer.",
            parameter_names=["1", "2", "3"],
        )
    return Workflow.objects.all()


@pytest.fixture
def workflows(db):
    """The demo workflows, for tests whose database is emptied between tests (transaction=True)."""
    migrated_rows()
    return Workflow.objects.all()


@pytest.fixture
def factory(db):
    """An export house's factory: a general manager, a production manager, a specialization."""
    from routing.services.partners import PartnerContactInput, partner_create

    return partner_create(
        code="factory-a",
        name="Factory A",
        kind="factory",
        contacts=[
            PartnerContactInput(name="Ravi", phone=MANAGER, role="manager"),
            PartnerContactInput(name="Meena", phone=PRODUCTION, role="production"),
        ],
        specializations=["Knitwear"],
    )
