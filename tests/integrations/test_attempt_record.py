"""Every attempt is on record, even one whose sender is killed before the answer comes."""

import pytest

from integrations import sending, transports
from integrations.models import Delivery
from tests.integrations.conftest import make_endpoint, make_referral


class _KilledMidSend(transports.Transport):
    """The worker process dies while the request is out (SIGKILL, OOM, a deploy)."""

    def send(self, delivery):
        raise KeyboardInterrupt


def test_an_attempt_cut_off_by_a_kill_still_shows(provider, crew, service, monkeypatch):
    make_endpoint(provider)
    make_referral(crew, service)
    delivery = Delivery.objects.get()
    monkeypatch.setitem(transports.TRANSPORTS, "webhook", _KilledMidSend)

    with pytest.raises(KeyboardInterrupt):
        sending.delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.attempt_count == 1
    (attempt,) = delivery.attempts.all()
    assert attempt.finished_at is None  # started, never finished
    assert attempt.status_code is None


def test_a_finished_attempt_has_its_answer_and_finish_time(provider, crew, service, receiver):
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    sent = sending.delivery_send(delivery_id=Delivery.objects.get().pk)
    (attempt,) = sent.attempts.all()
    assert attempt.status_code == 200
    assert attempt.finished_at >= attempt.at
