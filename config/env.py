"""Small typed readers of environment variables for config/settings.py: each value has a
default, and a value that cannot be read stops start-up with a message naming the variable."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file is optional and only for local convenience; real deployments set variables.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")


def _read(name: str, reader, default):
    try:
        return reader(name, default=default)
    except (ValueError, TypeError, environ.ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"Environment variable {name} has a bad value: {exc}") from exc


def env_str(name: str, default: str) -> str:
    return _read(name, env.str, default)


def env_bool(name: str, default: bool) -> bool:
    raw = env.str(name, default="")
    if raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"Environment variable {name} must be true or false, not {raw!r}")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = env.str(name, default="")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a whole number, not {raw!r}"
        ) from exc
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(
            f"Environment variable {name} must be between {minimum} and {maximum}, not {value}"
        )
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env.str(name, default="")
    if raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
