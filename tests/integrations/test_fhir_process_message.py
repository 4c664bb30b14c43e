"""Receivers answer through POST /api/v1/fhir/$process-message, through the one state machine."""

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.operationoutcome import OperationOutcome

from referrals import services
from referrals.models import ReferralEvent, Status
from tests.integrations.conftest import answer, make_referral

URL = "/api/v1/fhir/$process-message"


def response_message(
    referral, reason: str, status: str, *, decline_reason: str = "", note: str = ""
) -> dict:
    """A servicerequest-response message as a receiving system would send it."""
    request = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "status": status,
        "intent": "order",
        "subject": {"display": "the patient"},
    }
    if decline_reason:
        request["extension"] = [
            {
                "url": "https://frontdoor.test/fhir/StructureDefinition/decline-reason",
                "valueCode": decline_reason,
            }
        ]
    if note:
        request["note"] = [{"text": note}]
    return {
        "resourceType": "Bundle",
        "id": "6f2e7c4a-7b1e-4c59-9d4e-1a2b3c4d5e6f",
        "type": "message",
        "entry": [
            {
                "fullUrl": "urn:uuid:0a1b2c3d-0000-4000-8000-000000000001",
                "resource": {
                    "resourceType": "MessageHeader",
                    "id": "0a1b2c3d-0000-4000-8000-000000000001",
                    "eventCoding": {
                        "system": "https://fhir.nhs.uk/CodeSystem/message-events-bars",
                        "code": "servicerequest-response",
                    },
                    "reason": {"coding": [{"code": reason}]},
                    "source": {"endpoint": "https://bars.alpha.test"},
                    "focus": [{"reference": f"urn:uuid:{referral.pk}"}],
                },
            },
            {"fullUrl": f"urn:uuid:{referral.pk}", "resource": request},
        ],
    }


def post(client, message, content_type="application/fhir+json"):
    return client.post(URL, json.dumps(message), content_type=content_type)


def outcome_of(answer_) -> OperationOutcome:
    assert answer_["Content-Type"].startswith("application/fhir+json")
    return OperationOutcome.model_validate(answer_.json())


@pytest.fixture
def referral(crew, service):
    return make_referral(crew, service)


def test_a_partner_accepts_and_the_crew_sees_it_accepted(api_as, partner, crew, referral):
    acknowledged = post(api_as(partner), response_message(referral, "acknowledged", "active"))
    assert acknowledged.status_code == 200, acknowledged.content
    accepted = post(api_as(partner), response_message(referral, "accepted", "active"))
    assert accepted.status_code == 200, accepted.content

    bundle = Bundle.model_validate(accepted.json())
    header = bundle.entry[0].resource
    assert header.response.code == "ok"
    assert header.response.identifier == "0a1b2c3d-0000-4000-8000-000000000001"
    crew_view = api_as(crew).get(f"/api/v1/referrals/{referral.pk}/")
    assert crew_view.json()["status"] == "accepted"
    last = ReferralEvent.objects.filter(referral=referral).last()
    assert (last.from_status, last.to_status, last.actor) == ("acknowledged", "accepted", partner)


def test_a_partner_declines_with_a_reason_code(api_as, partner, referral):
    answer_ = post(
        api_as(partner),
        response_message(
            referral, "declined", "revoked", decline_reason="no_capacity", note="Team full"
        ),
    )
    assert answer_.status_code == 200, answer_.content
    referral.refresh_from_db()
    assert referral.status == Status.DECLINED
    assert (referral.decline_reason, referral.decline_note) == ("no_capacity", "Team full")


def test_it_refuses_a_decline_without_a_reason_code_and_changes_nothing(api_as, partner, referral):
    answer_ = post(api_as(partner), response_message(referral, "declined", "revoked"))
    assert answer_.status_code == 400
    assert outcome_of(answer_).issue[0].severity == "error"
    referral.refresh_from_db()
    assert referral.status == Status.SENT


def test_it_refuses_an_illegal_transition_with_409(api_as, partner, referral):
    # Accepting straight from sent is legal; accepting a referral the crew cancelled is not.
    services.referral_transition(
        referral_id=referral.pk, user=referral.referring_user, action="cancel", note="Not needed"
    )
    answer_ = post(api_as(partner), response_message(referral, "accepted", "active"))
    assert answer_.status_code == 409
    assert outcome_of(answer_).issue[0].code == "conflict"
    referral.refresh_from_db()
    assert referral.status == Status.CANCELLED


def test_it_hides_another_organisations_referral(api_as, other_partner, referral):
    answer_ = post(api_as(other_partner), response_message(referral, "acknowledged", "active"))
    assert answer_.status_code == 404
    assert outcome_of(answer_).issue[0].code == "not-found"
    referral.refresh_from_db()
    assert referral.status == Status.SENT


def test_it_refuses_the_referring_crew_answering_its_own_referral(api_as, crew, referral):
    answer_ = post(api_as(crew), response_message(referral, "acknowledged", "active"))
    assert answer_.status_code == 403
    assert outcome_of(answer_).issue[0].code == "forbidden"


def test_it_wants_a_signed_in_caller(client, referral):
    answer_ = post(client, response_message(referral, "acknowledged", "active"))
    assert answer_.status_code == 401
    assert outcome_of(answer_).issue[0].code == "login"


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda m: "{not json", id="not-json"),
        pytest.param(lambda m: {"resourceType": "Patient"}, id="not-a-bundle"),
        pytest.param(lambda m: {**m, "type": "collection"}, id="not-a-message"),
        pytest.param(lambda m: {**m, "entry": "many"}, id="invalid-fhir"),
        pytest.param(lambda m: {**m, "entry": m["entry"][1:]}, id="no-header"),
        pytest.param(
            lambda m: _header(m, eventCoding={"code": "servicerequest-request"}), id="wrong-event"
        ),
        pytest.param(lambda m: _header(m, reason={"coding": [{"code": "maybe"}]}), id="no-reason"),
        pytest.param(lambda m: _header(m, focus=[{"reference": "urn:uuid:x"}]), id="bad-focus"),
        pytest.param(lambda m: _request(m, status="revoked"), id="status-contradicts-reason"),
        pytest.param(lambda m: _request(m, id="not-a-referral"), id="unknown-id"),
    ],
)
def test_it_answers_malformed_messages_with_an_operation_outcome(api_as, partner, referral, spoil):
    message = spoil(response_message(referral, "acknowledged", "active"))
    body = message if isinstance(message, str) else json.dumps(message)
    answer_ = api_as(partner).post(URL, body, content_type="application/fhir+json")
    assert answer_.status_code == 400, answer_.content
    assert outcome_of(answer_).issue[0].diagnostics
    referral.refresh_from_db()
    assert referral.status == Status.SENT


def _header(message, **changes):
    message["entry"][0]["resource"].update(changes)
    return message


def _request(message, **changes):
    message["entry"][1]["resource"].update(changes)
    if "id" in changes:
        message["entry"][1]["fullUrl"] = "urn:uuid:" + str(changes["id"])
        message["entry"][0]["resource"]["focus"] = [{"reference": message["entry"][1]["fullUrl"]}]
    return message


def test_it_takes_plain_json_too(api_as, partner, referral):
    answer_ = post(
        api_as(partner),
        response_message(referral, "acknowledged", "active"),
        content_type="application/json",
    )
    assert answer_.status_code == 200
    referral.refresh_from_db()
    assert referral.status == Status.ACKNOWLEDGED


def test_it_completes_with_the_outcome(api_as, partner, referral):
    answer(referral, partner, "acknowledge")
    answer(referral, partner, "accept")
    answer_ = post(
        api_as(partner),
        response_message(referral, "completed", "completed", note="Seen at home, stays home"),
    )
    assert answer_.status_code == 200
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == (Status.COMPLETED, "Seen at home, stays home")


def test_it_reads_a_directory_entry_as_a_healthcare_service(api_as, crew, service):
    answer_ = api_as(crew).get(f"/api/v1/fhir/HealthcareService/{service.uuid}")
    assert answer_.status_code == 200
    resource = HealthcareService.model_validate(answer_.json())
    assert resource.id == str(service.uuid)
    assert resource.name == service.name
    assert resource.providedBy.identifier.value == service.organisation.ods_code
    assert resource.category[0].coding[0].code == "falls"
    assert len(resource.availableTime) == 7


def test_it_answers_an_unknown_healthcare_service_with_404(api_as, crew, db):
    answer_ = api_as(crew).get(
        "/api/v1/fhir/HealthcareService/00000000-0000-4000-8000-000000000000"
    )
    assert answer_.status_code == 404
    assert outcome_of(answer_).issue[0].code == "not-found"


def test_a_full_endpoint_receives_the_referral_and_accepts_it_by_message(
    api_as, partner, crew, service, receiver
):
    from integrations import sending
    from integrations.models import Delivery, Endpoint
    from tests.integrations.conftest import make_endpoint

    make_endpoint(
        service.organisation, url=receiver.url, kind=Endpoint.Kind.FHIR, full_message=True
    )
    referral = make_referral(crew, service)
    sending.delivery_send(delivery_id=Delivery.objects.get().pk)
    received = Bundle.model_validate_json(receiver.received[0].body)
    request_id = next(
        e.resource.id for e in received.entry if e.resource.get_resource_type() == "ServiceRequest"
    )
    assert request_id == str(referral.pk)

    for reason in ("acknowledged", "accepted"):
        assert (
            post(api_as(partner), response_message(referral, reason, "active")).status_code == 200
        )
    assert api_as(crew).get(f"/api/v1/referrals/{referral.pk}/").json()["status"] == "accepted"
