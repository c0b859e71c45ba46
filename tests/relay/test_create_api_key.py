from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from relay.api.authentication import hash_key
from relay.models import ApiKey


def create_api_key(name: str) -> list[str]:
    out = StringIO()
    call_command("create_api_key", name, stdout=out)
    return out.getvalue().splitlines()


def test_create_api_key_prints_the_key_alone_on_its_last_line(db):
    lines = create_api_key("booking-platform")

    key = lines[-1]
    api_key = ApiKey.objects.get(name="booking-platform")
    assert key.startswith("sb_") and " " not in key
    assert api_key.key_hash == hash_key(key)
    assert sum(key in line for line in lines) == 1  # printed once


def test_the_key_is_stored_hashed_only(db):
    key = create_api_key("crm")[-1]

    stored = ApiKey.objects.values_list("prefix", "key_hash").get()
    assert key not in stored


def test_the_printed_key_authenticates_api_requests(db):
    key = create_api_key("crm")[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    assert client.get("/api/v1/sessions/").status_code == 200


def test_a_duplicate_name_is_refused_and_makes_no_second_key(db):
    create_api_key("crm")

    with pytest.raises(CommandError, match="already exists"):
        create_api_key("crm")

    assert ApiKey.objects.count() == 1


def test_a_blank_name_is_refused(db):
    with pytest.raises(CommandError):
        create_api_key("  ")

    assert not ApiKey.objects.exists()
