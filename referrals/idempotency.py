"""Idempotency keys: a retried POST gets the first answer instead of a second referral.

The key row is inserted first, in its own committed transaction, so the unique
constraint (user, key) decides which of several simultaneous requests owns the key. The
owner runs create() and stores its answer in one transaction with whatever create()
wrote: a crash leaves either both or neither. A refused create() (any exception)
releases the key, so nothing is remembered for a request that changed nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import Conflict, DomainError
from referrals.models import IdempotencyKey

# Keys are answered for at least this long; older ones are purged.
KEY_LIFETIME = timedelta(hours=24)
# A key still in flight after this long belongs to a request that died; it may be retaken.
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


def _claim(*, user, key: str, digest: str, now: datetime) -> IdempotencyKey | tuple[int, dict]:
    """Own the key (returns its row) or answer from it (returns the stored answer)."""
    try:
        # Its own transaction (a savepoint inside an outer one): the unique constraint
        # decides the owner, and the row is visible to others as soon as possible.
        with transaction.atomic():
            return IdempotencyKey.objects.create(user=user, key=key, request_hash=digest)
    except IntegrityError:
        pass

    existing = IdempotencyKey.objects.filter(user=user, key=key).first()
    if existing is None:
        # The owner failed and released the key between our insert and this read.
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
            existing.created_at = now
            return existing
    raise Conflict("A request with this key is in progress.", code="request_in_flight")


def idempotent_response(
    *, user, key: str, body: dict, create: Callable[[], tuple[int, dict]]
) -> tuple[int, dict]:
    """Answer a POST once per (user, key): replay the first answer for the same body.

    Same key, other body: 422 idempotency_key_reused. Same key while the first request
    is still running: 409 request_in_flight.
    """
    key = check_key(key)
    now = timezone.now()
    claimed = _claim(user=user, key=key, digest=request_hash(body), now=now)
    if isinstance(claimed, tuple):
        return claimed
    try:
        with transaction.atomic():
            status_code, response = create()
            # Stored as JSON so the replay is byte-for-byte what the first caller received.
            stored = json.loads(json.dumps(response, cls=DjangoJSONEncoder))
            IdempotencyKey.objects.filter(pk=claimed.pk).update(
                response_status=status_code, response_body=stored, completed_at=timezone.now()
            )
    except BaseException:
        IdempotencyKey.objects.filter(pk=claimed.pk, completed_at__isnull=True).delete()
        raise
    return status_code, stored


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete keys older than KEY_LIFETIME (their stored answers carry patient details)."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
