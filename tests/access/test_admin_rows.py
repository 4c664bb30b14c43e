"""The admin in the access matrix: every change list and change page, for every role, holds
only that role's organisation's rows; and the matrix's patient scan is shown to be live."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from referrals.models import PatientAccess
from tests.access.world import (
    PARTNERS,
    ROLES,
    body_text,
    client_as,
    last_audit_id,
    patient_seen,
    problems_in,
    refused,
)

# --- the admin -------------------------------------------------------------------------

# For each admin model a partner may list: the path from a row to its organisation.
PARTNER_SCOPE = {
    "directory.service": "organisation_id",
    "directory.location": "organisation_id",
    "integrations.endpoint": "organisation_id",
    "integrations.delivery": "endpoint__organisation_id",
}


# Registered by Django and knox, not by frontdoor: roles, not groups, decide access, and
# tokens are revoked through the API; nobody's model permissions open them, operators' neither.
ADMIN_CLOSED_TO_ALL = {"auth.group", "knox.authtoken"}


def admin_objects(world) -> dict[str, object]:
    """One object of the provider's side per admin model that has one, keyed app.model."""
    referral = world["referral"]
    return {
        "directory.service": world["service"],
        "directory.location": world["service"].location,
        "directory.organisation": world["provider"],
        "directory.user": world["people"]["partner"],
        "integrations.endpoint": world["endpoint"],
        "integrations.delivery": world["delivery"],
        "referrals.referral": referral,
        "referrals.referralevent": referral.events.first(),
        "referrals.patientaccess": PatientAccess.objects.create(
            referral=referral,
            referral_ref=referral.pk,
            user=world["people"]["crew"],
            username="m-crew",
            channel=PatientAccess.Channel.API,
        ),
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_own_rows_in_the_admin(world, role):
    problems: list[str] = []
    objects = admin_objects(world)
    for model in admin.site._registry:
        key = model._meta.label_lower
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        client = client_as(role, world)
        audits = last_audit_id()
        response = client.get(changelist)
        label = f"GET {changelist}"
        if key in ADMIN_CLOSED_TO_ALL:
            if not refused(response):
                problems.append(f"{label}: {role} got {response.status_code}, not refused")
        elif role == "operator":
            if response.status_code != 200:
                problems.append(f"{label}: operator got {response.status_code}")
        elif role in PARTNERS and key in PARTNER_SCOPE:
            if response.status_code != 200:
                problems.append(f"{label}: {role} got {response.status_code}")
            else:
                organisation = world["people"][role].organisation_id
                rows = response.context["cl"].queryset
                if rows.exclude(**{PARTNER_SCOPE[key]: organisation}).exists():
                    problems.append(f"{label}: {role} listed another organisation's rows")
        elif not refused(response):
            problems.append(f"{label}: {role} got {response.status_code}, not refused")
        problems += problems_in(role, world, label, response, audits)

        instance = objects.get(key)
        if instance is None:
            continue
        change = reverse("admin:{}_{}_change".format(*info), args=[instance.pk])
        audits = last_audit_id()
        response = client.get(change)
        label = f"GET {change}"
        owner = role == "operator" or (role == "partner" and key in PARTNER_SCOPE)
        if owner:
            if response.status_code != 200:
                problems.append(f"{label}: {role} got {response.status_code}")
        elif not (refused(response) or _admin_said_no_such_object(response)):
            problems.append(f"{label}: {role} got {response.status_code}, not refused")
        problems += problems_in(role, world, label, response, audits)
    assert problems == [], "\n".join(problems)


def _admin_said_no_such_object(response) -> bool:
    """The admin's answer to an object outside a user's queryset: back to the index."""
    return response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_the_scan_would_notice_the_patient_where_the_parties_see_it(world):
    """The markers are the ones the pages and API print: the matrix's checks are not idle."""
    audits = last_audit_id()
    for role, url in [
        ("crew", f"/api/v1/referrals/{world['referral'].pk}/"),
        ("crew", f"/referrals/{world['referral'].pk}/"),
        ("partner", f"/inbox/{world['referral'].pk}/"),
    ]:
        response = client_as(role, world).get(url)
        assert patient_seen(body_text(response)), url
    assert PatientAccess.objects.filter(pk__gt=audits).count() == 3
