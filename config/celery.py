"""Celery app. Only used when CELERY_BROKER_URL is set; otherwise run_deliveries sends."""

import os

from celery import Celery
from kombu.transport import redis as kombu_redis
from redis import exceptions as redis_exceptions

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("frontdoor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# A worker must outlive its broker. When Redis dies, Celery collects the broken connection
# and reconnects; but work still pending on the old connection (closing its channel, putting
# unacknowledged tasks back, acknowledging a task that finished meanwhile) makes kombu's Redis
# transport build a client from a connection that is gone, and the AttributeError
# ("'NoneType' object has no attribute 'hostname'" or "... 'client'") stops the worker for
# good. Raised as the connection error it is, Celery logs it and carries on: Redis restores
# unacknowledged tasks after the visibility timeout, and the outbox sweep queues every due
# delivery again.
_connparams = kombu_redis.Channel._connparams


def _connparams_of_a_live_connection(self, asynchronous=False):
    transport = self.connection
    if transport is None or transport.client is None:
        raise redis_exceptions.ConnectionError("the broker connection was closed after a loss")
    return _connparams(self, asynchronous=asynchronous)


kombu_redis.Channel._connparams = _connparams_of_a_live_connection
