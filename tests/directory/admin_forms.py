"""What the directory admin's forms post, for tests that drive the admin as a partner or an
operator would."""

from django.test import Client

from directory.models import Service

SERVICES = "/admin/directory/service/"


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_form_data(service: Service, **overrides) -> dict:
    """What the service change form posts, with no hours or exceptions rows."""
    data = {
        "organisation": service.organisation_id,
        "name": service.name,
        "public_name": service.public_name,
        "description": service.description,
        "location": service.location_id,
        "active": "on",
        "categories": [c.pk for c in service.categories.all()] if service.pk else [],
        "min_age": "",
        "max_age": "",
        "inclusion_criteria": "",
        "exclusion_criteria": "",
        "phone": "",
        "professional_phone": "",
        "referral_instructions": "",
        "referral_roles": ["crew"],
        "acknowledge_within_minutes": 30,
        "answer_within_minutes": 120,
        "bank_holiday_hours": "normal",
        "capacity_status": service.capacity_status,
        "capacity_slots": "" if service.capacity_slots is None else service.capacity_slots,
        "capacity_expires_in_minutes": "",
    }
    for prefix in ("opening_spans", "opening_exceptions"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": 0,
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    data.update(overrides)
    return data


def capacity_list_data(services, **values_by_id) -> dict:
    """The service list's list_editable formset, changing the rows named by id."""
    data = {
        "form-TOTAL_FORMS": len(services),
        "form-INITIAL_FORMS": len(services),
        "form-MIN_NUM_FORMS": 0,
        "form-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for i, service in enumerate(services):
        status, slots = values_by_id.get(
            str(service.pk), (service.capacity_status, service.capacity_slots)
        )
        data[f"form-{i}-id"] = service.pk
        data[f"form-{i}-capacity_status"] = status
        data[f"form-{i}-capacity_slots"] = "" if slots is None else slots
    return data
