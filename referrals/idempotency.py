"""Idempotency keys: a retried POST gets the first answer instead of a second referral.

The key row is inserted first, in the same transaction as whatever create() writes and
the stored answer: a crash or a refusal rolls all three back together, so nothing is
remembered for a request that changed nothing, and one commit does the lot. The unique
constraint (user, key) decides which of several simultaneous requests owns the key; on
PostgreSQL a transaction-scoped advisory lock on (user, key), tried in the same
statement, lets a second request see at once that the first is still in flight (409)
instead of queueing behind its uncommitted row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from config.compiled import update
from config.errors import Conflict, DomainError
from referrals.models import IdempotencyKey

# Keys are answered for at least this long; older ones are purged.
KEY_LIFETIME = timedelta(hours=24)
# A key still in flight after this long belongs to a request that died; it may be retaken.
# (Rows of the earlier two-transaction design; a key is now committed only with its answer.)
IN_FLIGHT_TIMEOUT = timedelta(minutes=2)
MAX_KEY_LENGTH = 255


def request_hash(body: Any) -> str:
    """SHA-256 of the body as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise DomainError(
            "An Idempotency-Key header is required.",
            code="idempotency_key_required",
            fields={"Idempotency-Key": ["This header is required."]},
        )
    if len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            "The Idempotency-Key is too long.",
            code="invalid",
            fields={"Idempotency-Key": [f"At most {MAX_KEY_LENGTH} characters."]},
        )
    return key


def _lock_id(user_id: int, key: str) -> int:
    """A signed 64-bit advisory-lock id for (user, key)."""
    digest = hashlib.blake2b(f"{user_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _insert_key(*, user_id: int, key: str, digest: str, now: datetime) -> int | None:
    """Insert the key row unless it exists; its id if this request now owns the key.

    One statement, no savepoint: ON CONFLICT DO NOTHING instead of catching IntegrityError.
    """
    meta = IdempotencyKey._meta
    quote = connection.ops.quote_name
    user_column, key_column, hash_column, created_column = (
        quote(meta.get_field(name).column) for name in ("user", "key", "request_hash", "created_at")
    )
    # Table and column names come from the model; every value is a bound parameter.
    insert = (
        f"INSERT INTO {quote(meta.db_table)} "
        f"({user_column}, {key_column}, {hash_column}, {created_column})"
    )
    conflict = f"ON CONFLICT ({user_column}, {key_column}) DO NOTHING RETURNING {quote('id')}"
    values = [user_id, key, digest, connection.ops.adapt_datetimefield_value(now)]
    if connection.vendor == "postgresql":
        # Whoever holds the lock is the one request working on this key right now (the lock
        # lasts until its transaction ends); failing to take it means "in flight", at once.
        sql = f"{insert} SELECT %s, %s, %s, %s WHERE pg_try_advisory_xact_lock(%s) {conflict}"
        values.append(_lock_id(user_id, key))
    else:
        # SQLite runs one writer at a time (BEGIN IMMEDIATE): no other request is in flight.
        sql = f"{insert} VALUES (%s, %s, %s, %s) {conflict}"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    return row[0] if row else None


def _claim(*, user, key: str, digest: str, now: datetime) -> int | tuple[int, dict]:
    """Own the key (returns its row id) or answer from it (returns the stored answer)."""
    owned = _insert_key(user_id=user.pk, key=key, digest=digest, now=now)
    if owned is not None:
        return owned

    existing = IdempotencyKey.objects.filter(user=user, key=key).first()
    if existing is None:
        # Another request holds the key's lock and has not committed its row yet.
        raise Conflict("A request with this key is in progress.", code="request_in_flight")
    if existing.request_hash != digest:
        raise DomainError(
            "This Idempotency-Key was used with a different body.",
            code="idempotency_key_reused",
            status_code=422,
        )
    if existing.completed_at is not None:
        return existing.response_status, existing.response_body
    stale_before = now - IN_FLIGHT_TIMEOUT
    if existing.created_at < stale_before:
        # Conditional UPDATE: of several retries of a dead request, only one takes it over.
        retaken = IdempotencyKey.objects.filter(
            pk=existing.pk, completed_at__isnull=True, created_at=existing.created_at
        ).update(created_at=now)
        if retaken == 1:
            return existing.pk
    raise Conflict("A request with this key is in progress.", code="request_in_flight")


def idempotent_response(
    *, user, key: str, body: dict, create: Callable[[], tuple[int, dict]]
) -> tuple[int, dict]:
    """Answer a POST once per (user, key): replay the first answer for the same body.

    Same key, other body: 422 idempotency_key_reused. Same key while the first request
    is still running: 409 request_in_flight. A refused create() (any exception) rolls
    back the key with everything else.
    """
    key = check_key(key)
    now = timezone.now()
    digest = request_hash(body)
    with transaction.atomic():
        claimed = _claim(user=user, key=key, digest=digest, now=now)
        if isinstance(claimed, tuple):
            return claimed
        status_code, response = create()
        # Stored as JSON so the replay is byte-for-byte what the first caller received.
        stored = json.loads(json.dumps(response, cls=DjangoJSONEncoder))
        # QuerySet.update()'s statement, compiled once per connection (config/compiled.py).
        update(
            IdempotencyKey,
            claimed,
            response_status=status_code,
            response_body=stored,
            completed_at=timezone.now(),
        )
    return status_code, stored


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete keys older than KEY_LIFETIME (their stored answers carry patient details)."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
