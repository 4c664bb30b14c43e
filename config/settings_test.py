"""The test run's settings: config/settings.py read as in development, with a fast hasher.

DEBUG defaults to off (production); tests, like `make run`, are development. Subprocesses
the tests start (a Celery worker, the e2e server) inherit DEBUG=true from here.
"""

import os

os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: E402,F403

# Hashing a million PBKDF2 rounds per test user is most of a slow suite.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
