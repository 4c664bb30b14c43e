"""The endpoints API: who may register, see, change, test and replay, and what they get."""

import json
import uuid

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from integrations import sending
from integrations.models import Delivery, DeliveryAttempt, Endpoint
from tests.integrations.conftest import make_endpoint

# --- data -------------------------------------------------------------------------------
# Receivers (the `receiver` fixture) and make_endpoint come from the deliveries' conftest.

HOOK_URL = "https://receiver.example.nhs.uk/hooks"


def make_delivery(endpoint, **fields) -> Delivery:
    fields.setdefault("event_type", "referral.created")
    fields.setdefault("payload", {"type": fields["event_type"], "data": {}})
    fields.setdefault("message_id", f"msg_{uuid.uuid4().hex}")
    return Delivery.objects.create(endpoint=endpoint, **fields)


@pytest.fixture
def endpoint(provider):
    """The partner's organisation's webhook endpoint."""
    return make_endpoint(provider, HOOK_URL, description="Alpha referrals desk")


@pytest.fixture
def crew_endpoint(ambulance_trust):
    return make_endpoint(ambulance_trust, HOOK_URL, description="Trust answers")


# --- the access matrix -------------------------------------------------------------------

# For the partner's organisation's endpoint: the partner and operators reach it; anyone
# of another organisation learns nothing (404); planners may not use the API at all (403).
MATRIX = [
    ("partner", 200),
    ("other_partner", 404),
    ("crew", 404),
    ("planner", 403),
    ("operator", 200),
]


@pytest.mark.parametrize(("who", "expected"), MATRIX)
def test_it_shows_an_endpoint_only_to_its_organisation_and_operators(
    request, api_as, endpoint, who, expected
):
    answer = api_as(request.getfixturevalue(who)).get(f"/api/v1/endpoints/{endpoint.pk}/")
    assert answer.status_code == expected
    if expected == 200:
        assert answer.json()["url"] == endpoint.url
    else:
        assert "url" not in json.dumps(answer.json())


@pytest.mark.parametrize(("who", "expected"), MATRIX)
def test_it_lets_only_its_organisation_and_operators_change_an_endpoint(
    request, api_as, endpoint, who, expected
):
    answer = api_as(request.getfixturevalue(who)).patch(
        f"/api/v1/endpoints/{endpoint.pk}/", {"description": "changed"}, format="json"
    )
    assert answer.status_code == expected
    endpoint.refresh_from_db()
    assert endpoint.description == ("changed" if expected == 200 else "Alpha referrals desk")


@pytest.mark.parametrize(("who", "expected"), [(w, 204 if e == 200 else e) for w, e in MATRIX])
def test_it_lets_only_its_organisation_and_operators_delete_an_endpoint(
    request, api_as, endpoint, who, expected
):
    answer = api_as(request.getfixturevalue(who)).delete(f"/api/v1/endpoints/{endpoint.pk}/")
    assert answer.status_code == expected
    assert Endpoint.objects.filter(pk=endpoint.pk).exists() == (expected != 204)


@pytest.mark.parametrize(("who", "expected"), [(w, 202 if e == 200 else e) for w, e in MATRIX])
def test_it_lets_only_its_organisation_and_operators_send_a_test_event(
    request, api_as, endpoint, who, expected
):
    answer = api_as(request.getfixturevalue(who)).post(f"/api/v1/endpoints/{endpoint.pk}/test/")
    assert answer.status_code == expected
    assert endpoint.deliveries.count() == (1 if expected == 202 else 0)


@pytest.mark.parametrize(("who", "expected"), MATRIX)
def test_it_lists_deliveries_only_to_the_endpoints_organisation_and_operators(
    request, api_as, endpoint, who, expected
):
    make_delivery(endpoint)
    answer = api_as(request.getfixturevalue(who)).get(
        f"/api/v1/endpoints/{endpoint.pk}/deliveries/"
    )
    assert answer.status_code == expected
    if expected == 200:
        assert answer.json()["count"] == 1


@pytest.mark.parametrize(("who", "expected"), [(w, 202 if e == 200 else e) for w, e in MATRIX])
def test_it_lets_only_the_endpoints_organisation_and_operators_replay(
    request, api_as, endpoint, who, expected
):
    failed = make_delivery(endpoint, status=Delivery.Status.FAILED, failed_at=timezone.now())
    answer = api_as(request.getfixturevalue(who)).post(f"/api/v1/deliveries/{failed.pk}/replay/")
    assert answer.status_code == expected
    failed.refresh_from_db()
    assert failed.status == (Delivery.Status.PENDING if expected == 202 else Delivery.Status.FAILED)


def test_it_lets_a_crews_organisation_manage_its_own_endpoints(api_as, crew, crew_endpoint):
    client = api_as(crew)
    base = f"/api/v1/endpoints/{crew_endpoint.pk}/"
    assert client.get(base).status_code == 200
    assert client.patch(base, {"active": False}, format="json").status_code == 200
    assert client.patch(base, {"active": True}, format="json").status_code == 200
    assert client.post(base + "test/").status_code == 202
    assert client.get(base + "deliveries/").json()["count"] == 1
    assert client.delete(base).status_code == 204


@pytest.mark.parametrize(
    ("who", "sees"),
    [("partner", {"provider"}), ("crew", {"trust"}), ("operator", {"provider", "trust"})],
)
def test_it_lists_only_the_endpoints_a_user_may_see(
    request, api_as, endpoint, crew_endpoint, who, sees
):
    answer = api_as(request.getfixturevalue(who)).get("/api/v1/endpoints/")
    assert answer.status_code == 200
    ids = {row["id"] for row in answer.json()["results"]}
    by_name = {"provider": endpoint.pk, "trust": crew_endpoint.pk}
    assert ids == {by_name[name] for name in sees}


def test_it_refuses_planners_the_endpoint_list_and_creation(api_as, planner, endpoint):
    client = api_as(planner)
    assert client.get("/api/v1/endpoints/").status_code == 403
    created = client.post(
        "/api/v1/endpoints/", {"kind": "webhook", "url": "https://x.example/"}, format="json"
    )
    assert created.status_code == 403
    assert Endpoint.objects.count() == 1


# --- registering ------------------------------------------------------------------------


def test_it_registers_an_endpoint_for_the_callers_organisation(api_as, partner, provider):
    answer = api_as(partner).post(
        "/api/v1/endpoints/",
        {"kind": "webhook", "url": "https://alpha.example.nhs.uk/frontdoor"},
        format="json",
    )
    assert answer.status_code == 201
    endpoint = Endpoint.objects.get(pk=answer.json()["id"])
    assert endpoint.organisation == provider
    assert endpoint.url == "https://alpha.example.nhs.uk/frontdoor"
    assert endpoint.active


def test_it_shows_the_signing_secret_once_and_never_again(api_as, partner):
    client = api_as(partner)
    created = client.post(
        "/api/v1/endpoints/",
        {"kind": "webhook", "url": "https://alpha.example.nhs.uk/frontdoor"},
        format="json",
    ).json()
    assert created["secret"].startswith("whsec_")
    assert created["secret"] == Endpoint.objects.get(pk=created["id"]).secret

    detail = client.get(f"/api/v1/endpoints/{created['id']}/")
    listing = client.get("/api/v1/endpoints/")
    changed = client.patch(
        f"/api/v1/endpoints/{created['id']}/", {"description": "x"}, format="json"
    )
    for later in (detail, listing, changed):
        assert created["secret"] not in later.content.decode()
        assert "secret" not in later.content.decode()


def test_it_refuses_to_register_for_another_organisation(api_as, partner, other_provider):
    answer = api_as(partner).post(
        "/api/v1/endpoints/",
        {"kind": "webhook", "url": "https://x.example/", "organisation": other_provider.pk},
        format="json",
    )
    assert answer.status_code == 403
    assert "organisation" in answer.json()["error"]["fields"]
    assert Endpoint.objects.count() == 0


def test_it_lets_an_operator_register_for_any_organisation(api_as, operator, other_provider):
    answer = api_as(operator).post(
        "/api/v1/endpoints/",
        {"kind": "email", "email": "desk@beta.example", "organisation": other_provider.pk},
        format="json",
    )
    assert answer.status_code == 201
    assert Endpoint.objects.get(pk=answer.json()["id"]).organisation == other_provider
    assert answer.json()["email"] == "desk@beta.example"


def test_it_refuses_plain_http_when_private_targets_are_not_allowed(api_as, partner, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    answer = api_as(partner).post(
        "/api/v1/endpoints/", {"kind": "webhook", "url": "http://alpha.example/"}, format="json"
    )
    assert answer.status_code == 400
    assert "url" in answer.json()["error"]["fields"]
    assert Endpoint.objects.count() == 0


def test_it_takes_plain_http_where_private_targets_are_allowed(api_as, partner, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    answer = api_as(partner).post(
        "/api/v1/endpoints/", {"kind": "fhir", "url": "http://127.0.0.1:9/fhir"}, format="json"
    )
    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "pigeon", "url": "https://x.example/"}, "kind"),
        ({"url": "https://x.example/"}, "kind"),
        ({"kind": "webhook"}, "url"),
        ({"kind": "webhook", "url": "not a url"}, "url"),
        ({"kind": "webhook", "url": "ftp://x.example/"}, "url"),
        ({"kind": "webhook", "url": "https://user:pw@x.example/"}, "url"),
        ({"kind": "email"}, "email"),
        ({"kind": "email", "email": "not-an-address"}, "email"),
        ({"kind": "email", "email": "a@b.example", "url": "https://x.example/"}, "url"),
        ({"kind": "webhook", "url": "https://x.example/", "organisation": 999999}, "organisation"),
    ],
)
def test_it_names_the_field_that_is_wrong(api_as, partner, body, field):
    answer = api_as(partner).post("/api/v1/endpoints/", body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]
    assert Endpoint.objects.count() == 0


# --- changing ---------------------------------------------------------------------------


def test_it_clears_the_disabled_reason_when_switched_back_on(api_as, partner, endpoint):
    endpoint.active = False
    endpoint.disabled_reason = "The receiver answered 410 Gone."
    endpoint.save()
    answer = api_as(partner).patch(
        f"/api/v1/endpoints/{endpoint.pk}/", {"active": True}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["active"] is True
    assert answer.json()["disabled_reason"] == ""


def test_it_changes_the_url_but_refuses_a_bad_one_without_changing_anything(
    api_as, partner, endpoint, settings
):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    client = api_as(partner)
    base = f"/api/v1/endpoints/{endpoint.pk}/"
    refused = client.patch(
        base, {"url": "http://plain.example/", "description": "new"}, format="json"
    )
    assert refused.status_code == 400
    assert "url" in refused.json()["error"]["fields"]
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description) == (HOOK_URL, "Alpha referrals desk")
    assert client.patch(base, {"url": "https://new.example/"}, format="json").status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.url == "https://new.example/"


@pytest.mark.parametrize("field", ["kind", "organisation", "secret"])
def test_it_refuses_to_change_what_makes_an_endpoint_what_it_is(
    api_as, partner, endpoint, other_provider, field
):
    value = {"kind": "email", "organisation": other_provider.pk, "secret": "whsec_mine"}[field]
    answer = api_as(partner).patch(
        f"/api/v1/endpoints/{endpoint.pk}/", {field: value}, format="json"
    )
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]
    before = endpoint.secret
    endpoint.refresh_from_db()
    assert (endpoint.kind, endpoint.organisation_id, endpoint.secret) == (
        Endpoint.Kind.WEBHOOK,
        partner.organisation_id,
        before,
    )


# --- test events, deliveries and replay ---------------------------------------------------


def test_it_sends_a_signed_test_event_that_a_real_receiver_gets(api_as, partner, receiver):
    endpoint = make_endpoint(partner.organisation, receiver.url)
    answer = api_as(partner).post(f"/api/v1/endpoints/{endpoint.pk}/test/")
    assert answer.status_code == 202
    delivery_id = answer.json()["delivery_id"]
    assert receiver.received == []  # the request only queued it

    sending.deliveries_send_due()

    assert len(receiver.received) == 1
    got = receiver.received[0]
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "endpoint.test"
    assert set(payload["data"]) <= {"endpoint_id", "organisation_id"}
    assert Delivery.objects.get(pk=delivery_id).status == Delivery.Status.DELIVERED


def test_it_lists_deliveries_with_their_attempts(api_as, partner, endpoint):
    delivery = make_delivery(endpoint, status=Delivery.Status.PENDING, attempt_count=2)
    DeliveryAttempt.objects.create(
        delivery=delivery, at=timezone.now(), duration_ms=15000, error="timed out"
    )
    DeliveryAttempt.objects.create(
        delivery=delivery, at=timezone.now(), duration_ms=40, status_code=503, error="HTTP 503"
    )
    other = make_endpoint(endpoint.organisation)
    make_delivery(other)

    answer = api_as(partner).get(f"/api/v1/endpoints/{endpoint.pk}/deliveries/")
    assert answer.status_code == 200
    assert answer.json()["count"] == 1
    row = answer.json()["results"][0]
    assert row["id"] == delivery.pk
    assert [(a["status_code"], a["error"], a["duration_ms"]) for a in row["attempts"]] == [
        (None, "timed out", 15000),
        (503, "HTTP 503", 40),
    ]
    assert all(a["at"] for a in row["attempts"])


def test_it_shows_the_attempt_a_real_receiver_answered(api_as, partner, receiver):
    endpoint = make_endpoint(partner.organisation, receiver.url)
    api_as(partner).post(f"/api/v1/endpoints/{endpoint.pk}/test/")
    sending.deliveries_send_due()
    row = api_as(partner).get(f"/api/v1/endpoints/{endpoint.pk}/deliveries/").json()["results"][0]
    assert row["status"] == "delivered"
    assert [a["status_code"] for a in row["attempts"]] == [200]


def test_it_filters_deliveries_by_status_and_names_a_bad_one(api_as, partner, endpoint):
    make_delivery(endpoint, status=Delivery.Status.FAILED)
    make_delivery(endpoint, status=Delivery.Status.DELIVERED)
    client = api_as(partner)
    base = f"/api/v1/endpoints/{endpoint.pk}/deliveries/"
    assert client.get(base, {"status": "failed"}).json()["count"] == 1
    bad = client.get(base, {"status": "lost"})
    assert bad.status_code == 400
    assert "status" in bad.json()["error"]["fields"]


@pytest.mark.parametrize("state", [Delivery.Status.FAILED, Delivery.Status.CANCELLED])
def test_it_replays_a_failed_or_cancelled_delivery(api_as, partner, endpoint, state):
    delivery = make_delivery(endpoint, status=state, failed_at=timezone.now())
    answer = api_as(partner).post(f"/api/v1/deliveries/{delivery.pk}/replay/")
    assert answer.status_code == 202
    assert answer.json()["status"] == "pending"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING


@pytest.mark.parametrize("state", [Delivery.Status.PENDING, Delivery.Status.DELIVERED])
def test_it_refuses_to_replay_a_pending_or_delivered_delivery(api_as, partner, endpoint, state):
    delivery = make_delivery(endpoint, status=state)
    answer = api_as(partner).post(f"/api/v1/deliveries/{delivery.pk}/replay/")
    assert answer.status_code == 409
    delivery.refresh_from_db()
    assert delivery.status == state


def test_it_replays_to_a_real_receiver(api_as, partner, receiver):
    endpoint = make_endpoint(partner.organisation, receiver.url)
    delivery = make_delivery(
        endpoint,
        event_type="endpoint.test",
        payload={"type": "endpoint.test", "data": {}},
        status=Delivery.Status.FAILED,
        failed_at=timezone.now(),
    )
    assert api_as(partner).post(f"/api/v1/deliveries/{delivery.pk}/replay/").status_code == 202
    sending.deliveries_send_due()
    assert len(receiver.received) == 1
    assert receiver.received[0].headers["webhook-id"] == delivery.message_id
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED


def test_it_refuses_a_test_event_to_a_switched_off_endpoint(api_as, partner, endpoint):
    endpoint.active = False
    endpoint.save()
    answer = api_as(partner).post(f"/api/v1/endpoints/{endpoint.pk}/test/")
    assert answer.status_code == 409
    assert endpoint.deliveries.count() == 0
