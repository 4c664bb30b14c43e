"""The partner's inbox keeps itself current with a cheap poll."""

import re

from referrals import services
from referrals.models import Status
from tests.referrals.factories import referral_create, referral_in


def _version(client) -> str:
    return re.search(r'data-live-version="([^"]+)"', client.get("/inbox/").content.decode())[1]


def test_it_answers_an_unchanged_inbox_poll_with_no_content(as_user, crew, partner, service):
    referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(partner)
    assert client.get("/inbox/live/", {"v": _version(client)}).status_code == 204


def test_it_answers_with_the_new_referral_when_one_arrives(as_user, crew, partner, service):
    client = as_user(partner)
    version = _version(client)
    referral = referral_create(crew, service)
    answer = client.get("/inbox/live/", {"v": version})
    assert answer.status_code == 200
    assert answer.json()["unanswered"] == 1
    assert f"/inbox/{referral.id}/" in answer.json()["html"]


def test_it_answers_when_a_referral_changes_status(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(partner)
    version = _version(client)
    services.referral_transition(referral_id=referral.id, user=crew, action="cancel", note="x")
    answer = client.get("/inbox/live/", {"v": version})
    assert answer.status_code == 200
    assert answer.json()["unanswered"] == 0
