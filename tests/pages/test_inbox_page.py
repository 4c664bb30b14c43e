from referrals.models import Status
from tests.factories import ServiceFactory
from tests.referrals.factories import referral_in


def test_it_lists_unanswered_referrals_first_with_their_count(as_user, crew, partner, service):
    sent = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    accepted = referral_in(Status.ACCEPTED, crew=crew, partner=partner, service=service)
    acknowledged = referral_in(Status.ACKNOWLEDGED, crew=crew, partner=partner, service=service)
    page = as_user(partner).get("/inbox/").content.decode()
    assert 'data-unanswered="2"' in page
    order = [page.index(f"/inbox/{r.id}/") for r in (acknowledged, sent, accepted)]
    assert order == sorted(order)


def test_it_shows_no_patient_identifiers_in_the_list(as_user, crew, partner, service):
    referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    page = as_user(partner).get("/inbox/").content.decode()
    assert "Testperson" not in page
    assert "80+" in page


def test_it_shows_only_referrals_into_the_partners_own_services(
    as_user, crew, partner, other_partner, service, other_provider
):
    theirs = ServiceFactory(organisation=other_provider)
    mine = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    other = referral_in(Status.SENT, crew=crew, partner=other_partner, service=theirs)
    page = as_user(partner).get("/inbox/").content.decode()
    assert f"/inbox/{mine.id}/" in page
    assert f"/inbox/{other.id}/" not in page


def test_it_refreshes_itself_from_a_small_json_view(as_user, crew, partner, service):
    client = as_user(partner)
    assert 'data-live-url="/inbox/live/"' in client.get("/inbox/").content.decode()
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    answer = client.get("/inbox/live/").json()
    assert answer["unanswered"] == 1
    assert f"/inbox/{referral.id}/" in answer["html"]


def test_it_links_to_the_admin_and_capacity(as_user, partner):
    page = as_user(partner).get("/inbox/").content.decode()
    assert 'href="/admin/"' in page
    assert 'href="/capacity/"' in page


def test_it_keeps_the_inbox_from_crews_and_planners(as_user, crew, planner):
    assert as_user(crew).get("/inbox/").status_code == 403
    assert as_user(crew).get("/inbox/live/").status_code == 403
    assert as_user(planner).get("/inbox/").status_code == 403


def test_it_counts_unanswered_referrals_in_the_title(as_user, crew, partner, service):
    client = as_user(partner)
    assert "<title>Inbox – frontdoor</title>" in client.get("/inbox/").content.decode()
    referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    referral_in(Status.ACKNOWLEDGED, crew=crew, partner=partner, service=service)
    assert "<title>(2) Inbox – frontdoor</title>" in client.get("/inbox/").content.decode()


def test_it_offers_a_sound_switched_off_by_default(as_user, partner):
    page = as_user(partner).get("/inbox/").content.decode()
    assert 'src="/static/js/inbox-cue.js"' in page
    toggle = page[page.index('id="inbox-sound"') - 80 : page.index('id="inbox-sound"') + 80]
    assert 'type="checkbox"' in toggle and "checked" not in toggle
    assert "Play a sound when a referral arrives" in page
