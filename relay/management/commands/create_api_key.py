from django.core.management.base import BaseCommand, CommandError, CommandParser

from relay.api.authentication import api_key_create
from relay.models import ApiKey


class Command(BaseCommand):
    help = "Create a REST API key. The key is printed once, alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who uses the key, e.g. 'booking-platform'")

    def handle(self, *args, name: str, **options) -> None:
        name = name.strip()
        if not name or len(name) > ApiKey._meta.get_field("name").max_length:
            raise CommandError("the name must be 1 to 100 characters")
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"an API key named '{name}' already exists; choose another name")
        api_key, key = api_key_create(name=name)
        self.stdout.write(
            f"Created API key '{api_key.name}' ({api_key.prefix}…). "
            "Store it now: it cannot be shown again."
        )
        # Alone on the last line, so that scripts can take it with `tail -n 1`.
        self.stdout.write(key)
