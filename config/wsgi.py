import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from relay.webhooks.wsgi import with_webhook_fast_path  # noqa: E402 (needs Django set up)

application = with_webhook_fast_path(django_application)
