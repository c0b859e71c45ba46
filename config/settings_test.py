"""Test settings: the real database from DATABASE_URL (SQLite when unset), tasks run inline."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("WHATSAPP_APP_SECRET", "test-app-secret")
os.environ.setdefault("WHATSAPP_VERIFY_TOKEN", "test-verify-token")
os.environ.setdefault("WHATSAPP_ACCESS_TOKEN", "test-access-token")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdCE=")
os.environ.setdefault("RELAY_PROVIDER", "whatsapp")
os.environ.setdefault("WHATSAPP_BUSINESS_ACCOUNT_ID", "WABA1")

from config.settings import *  # noqa: E402, F403
from config.settings import Q_CLUSTER  # noqa: E402

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
Q_CLUSTER = {**Q_CLUSTER, "sync": True, "log_level": "WARNING"}
WHATSAPP_TIMEOUT_SECONDS = 2.0
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False  # the test server speaks plain HTTP
RELAY_INLINE_WORK = True  # no worker processes: what is due is done after each commit
CRM_TIMEOUT_SECONDS = 0.5  # the receivers the tests start answer at once, or never
CRM_ALLOW_PRIVATE_URLS = True  # they listen on 127.0.0.1
