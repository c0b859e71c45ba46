"""The reference table: codes written through the API one at a time or as a CSV file, all or
nothing, and found by routing among 100,000 of them."""

import pytest

from routing.conditions import Sample
from routing.models import Reference, Rule
from routing.rules import rules_run
from routing.services.partners import partner_create
from routing.services.references import references_import


@pytest.fixture
def factories(db):
    return [
        partner_create(code=code, name=code.title(), kind="factory", contacts=[])
        for code in ("factory-a", "factory-b")
    ]


def post_csv(api, text: str):
    return api.post("/api/v1/references/import/", text.encode(), content_type="text/csv")


def test_a_code_is_written_and_changes_hands_through_the_api(api, factories):
    created = api.post("/api/v1/references/", {"code": "po1234", "partner": "factory-a"})
    moved = api.post("/api/v1/references/", {"code": "PO1234", "partner": "factory-b"})

    assert created.status_code == 201 and created.json() == {
        "code": "PO1234",
        "partner": "factory-a",
    }
    assert moved.status_code == 200
    assert Reference.objects.get().partner.code == "factory-b"


def test_an_unknown_partner_is_a_400(api, factories):
    answer = api.post("/api/v1/references/", {"code": "PO1", "partner": "nobody"})

    assert answer.status_code == 400 and "partner" in answer.json()
    assert not Reference.objects.exists()


def test_a_csv_file_is_imported(api, factories):
    Reference.objects.create(code="PO1", partner=factories[0])
    text = "\ufeffcode,partner\nPO1,factory-b\npo2,factory-a\n\nPO3, factory-b\n"

    answer = post_csv(api, text)

    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"lines": 3, "created": 2, "updated": 1, "unchanged": 0}
    owners = dict(Reference.objects.values_list("code", "partner__code"))
    assert owners == {"PO1": "factory-b", "PO2": "factory-a", "PO3": "factory-b"}


def test_bad_lines_are_reported_by_number_and_nothing_is_half_imported(api, factories):
    text = (
        "code,partner\nPO1,factory-a\n,factory-a\nPO2,nobody\nPO1,factory-b\nPO3\nPO4,factory-a\n"
    )

    answer = post_csv(api, text)

    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {"line": 3, "error": "the code is blank"},
        {"line": 4, "error": "no partner with code 'nobody'"},
        {"line": 5, "error": "PO1 is listed already, on line 2"},
        {"line": 6, "error": "expected 2 values (code,partner), got 1"},
    ]
    assert not Reference.objects.exists()


@pytest.mark.parametrize(
    "body, reason",
    [(b"partner,code\nfactory-a,PO1\n", "header"), (b"code,partner\n\xff\xfe\n", "UTF-8")],
)
def test_a_file_that_is_not_the_documented_csv_is_refused(api, factories, body, reason):
    answer = api.post("/api/v1/references/import/", body, content_type="text/csv")

    assert answer.status_code == 400 and reason in str(answer.json())


def test_routing_finds_the_owner_among_100000_codes(factories):
    lines = ["code,partner"] + [f"PO{n},factory-{'ab'[n % 2]}" for n in range(100_000)]
    result = references_import("\n".join(lines))
    assert result.created == 100_000
    rule = Rule(
        conditions=[{"kind": "regex", "value": r"(?P<ref>PO\d+)"}],
        actions=[{"kind": "partner_by_reference", "value": "ref"}],
    )

    decision = rules_run(Sample(text="problem with PO77777 stitching"), [rule])

    assert decision.placement.partner == factories[1]  # 77777 is odd
    assert decision.placement.external_ref == "PO77777"
