"""Endpoints and deliveries in the admin: operators manage and replay; partners set up,
test and switch off their own endpoints and look at their deliveries."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt, Endpoint
from tests.integrations.conftest import make_endpoint
from tests.integrations.test_endpoints_api import make_delivery

CHANGELIST = "/admin/integrations/delivery/"


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_partner(partner):
    # The admin site lets staff in; the partner's reach inside it comes from permissions.
    partner.is_staff = True
    partner.save()
    return partner


@pytest.fixture
def failed(provider):
    endpoint = make_endpoint(provider)
    return make_delivery(endpoint, status=Delivery.Status.FAILED, failed_at=timezone.now())


def test_it_replays_failed_deliveries_from_the_admin(operator, failed):
    answer = admin_client(operator).post(
        CHANGELIST, {"action": "replay", "_selected_action": [failed.pk]}, follow=True
    )
    assert answer.status_code == 200
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.PENDING
    assert any("sent again" in str(m) for m in get_messages(answer.wsgi_request))


def test_it_says_which_deliveries_it_would_not_replay(operator, failed):
    delivered = make_delivery(failed.endpoint, status=Delivery.Status.DELIVERED)
    answer = admin_client(operator).post(
        CHANGELIST,
        {"action": "replay", "_selected_action": [failed.pk, delivered.pk]},
        follow=True,
    )
    texts = [str(m) for m in get_messages(answer.wsgi_request)]
    assert any(f"#{delivered.pk}" in t for t in texts)
    delivered.refresh_from_db()
    assert delivered.status == Delivery.Status.DELIVERED
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.PENDING


def test_it_filters_the_failed_deliveries(operator, failed):
    pending = make_delivery(failed.endpoint)
    page = admin_client(operator).get(CHANGELIST, {"status__exact": "failed"})
    assert page.status_code == 200
    shown = {row.pk for row in page.context["cl"].result_list}
    assert shown == {failed.pk}
    assert pending.pk not in shown


def test_it_shows_a_deliverys_attempts(operator, failed):
    DeliveryAttempt.objects.create(
        delivery=failed, at=timezone.now(), duration_ms=120, status_code=500, error="HTTP 500"
    )
    page = admin_client(operator).get(f"{CHANGELIST}{failed.pk}/change/")
    assert page.status_code == 200
    assert "HTTP 500" in page.content.decode()


def test_it_shows_partners_only_their_own_organisations_deliveries(
    staff_partner, failed, other_provider
):
    theirs = make_delivery(make_endpoint(other_provider), status=Delivery.Status.FAILED)
    page = admin_client(staff_partner).get(CHANGELIST)
    assert page.status_code == 200
    shown = {row.pk for row in page.context["cl"].result_list}
    assert shown == {failed.pk}
    assert theirs.pk not in shown
    assert admin_client(staff_partner).get(f"{CHANGELIST}{theirs.pk}/change/").status_code in {
        302,
        404,
    }


def test_it_does_not_let_partners_replay(staff_partner, failed):
    client = admin_client(staff_partner)
    page = client.get(CHANGELIST)
    assert "replay" not in dict(page.context["cl"].model_admin.get_actions(page.wsgi_request))
    client.post(CHANGELIST, {"action": "replay", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.FAILED


ENDPOINTS = "/admin/integrations/endpoint/"


def test_it_lets_a_partner_add_a_webhook_and_shows_its_secret_once(
    staff_partner, provider, other_provider
):
    client = admin_client(staff_partner)
    assert client.get(f"{ENDPOINTS}add/").status_code == 200
    answer = client.post(
        f"{ENDPOINTS}add/",
        {
            # Not on a partner's form: ignored, the endpoint is their organisation's.
            "organisation": other_provider.pk,
            "kind": "webhook",
            "url": "https://alpha.example/hooks",
            "description": "Our referrals desk",
            "active": "on",
        },
        follow=True,
    )
    endpoint = Endpoint.objects.get()
    assert (endpoint.organisation, endpoint.url, endpoint.active) == (
        provider,
        "https://alpha.example/hooks",
        True,
    )
    assert any(endpoint.secret in str(m) for m in get_messages(answer.wsgi_request))
    later = client.get(f"{ENDPOINTS}{endpoint.pk}/change/")
    assert later.status_code == 200
    assert endpoint.secret not in later.content.decode()


def test_it_lets_a_partner_add_an_email_endpoint(staff_partner, provider):
    admin_client(staff_partner).post(
        f"{ENDPOINTS}add/", {"kind": "email", "email": "desk@alpha.test", "active": "on"}
    )
    assert Endpoint.objects.get().organisation == provider


def test_it_refuses_a_partners_endpoint_without_an_address(staff_partner):
    answer = admin_client(staff_partner).post(f"{ENDPOINTS}add/", {"kind": "email"})
    assert answer.status_code == 200
    assert answer.context["adminform"].form.errors["email"] == ["Required."]
    assert not Endpoint.objects.exists()


def test_it_lets_a_partner_send_a_test_event(staff_partner, provider):
    own = make_endpoint(provider)
    admin_client(staff_partner).post(
        ENDPOINTS, {"action": "send_test", "_selected_action": [own.pk]}
    )
    delivery = Delivery.objects.get()
    assert (delivery.endpoint, delivery.event_type) == (own, "endpoint.test")


def test_it_lets_a_partner_switch_an_endpoint_off(staff_partner, provider):
    by_action, by_form = make_endpoint(provider), make_endpoint(provider)
    client = admin_client(staff_partner)
    client.post(ENDPOINTS, {"action": "switch_off", "_selected_action": [by_action.pk]})
    client.post(
        f"{ENDPOINTS}{by_form.pk}/change/",
        {"url": by_form.url, "email": "", "description": ""},
    )
    for endpoint in (by_action, by_form):
        endpoint.refresh_from_db()
        assert not endpoint.active
        assert endpoint.disabled_reason == "Switched off by hand."


def test_it_keeps_other_organisations_endpoints_from_a_partner(
    staff_partner, provider, other_provider
):
    own = make_endpoint(provider, description="ours")
    theirs = make_endpoint(other_provider, description="theirs")
    client = admin_client(staff_partner)
    page = client.get(ENDPOINTS)
    assert {row.pk for row in page.context["cl"].result_list} == {own.pk}
    assert client.get(f"{ENDPOINTS}{theirs.pk}/change/").status_code == 404
    client.post(
        f"{ENDPOINTS}{theirs.pk}/change/",
        {"url": "https://elsewhere.example/", "description": "changed", "active": "on"},
    )
    for action in ("send_test", "switch_off"):
        client.post(ENDPOINTS, {"action": action, "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert (theirs.description, theirs.active) == ("theirs", True)
    assert not Delivery.objects.exists()


def test_it_offers_a_partner_only_their_own_organisation(staff_partner, provider, other_provider):
    # Operators pick the organisation; a partner's form has no choice to make.
    page = admin_client(staff_partner).get(f"{ENDPOINTS}add/")
    assert "organisation" not in page.context["adminform"].form.fields


def test_it_lets_an_operator_add_an_endpoint_and_shows_its_secret_once(
    operator, provider, settings
):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    client = admin_client(operator)
    refused = client.post(
        "/admin/integrations/endpoint/add/",
        {"organisation": provider.pk, "kind": "webhook", "url": "http://plain.example/"},
    )
    assert refused.status_code == 200  # the form again, with the error
    assert Endpoint.objects.count() == 0

    answer = client.post(
        "/admin/integrations/endpoint/add/",
        {
            "organisation": provider.pk,
            "kind": "webhook",
            "url": "https://alpha.example/",
            "active": "on",
        },
        follow=True,
    )
    endpoint = Endpoint.objects.get()
    assert endpoint.organisation == provider
    assert any(endpoint.secret in str(m) for m in get_messages(answer.wsgi_request))
    later = client.get(f"/admin/integrations/endpoint/{endpoint.pk}/change/")
    assert endpoint.secret not in later.content.decode()
