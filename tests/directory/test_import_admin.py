"""Operators upload an HSDS or CSV file in the admin and see the same summary as the commands."""

from django.core.files.uploadedfile import SimpleUploadedFile

from directory.models import Service
from tests.directory.test_import_services import GOOD_AND_BAD

URL = "/admin/import-services/"


def upload(client, text: str, name: str = "services.csv", dry_run: bool = False):
    data = {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(URL, data)


def test_an_operator_imports_a_csv_and_sees_the_summary(client, operator):
    client.force_login(operator)
    answer = upload(client, GOOD_AND_BAD)
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Created: 2" in page and "Rejected: 3" in page
    assert "unknown category &#x27;juggling&#x27;" in page
    assert Service.objects.count() == 2


def test_a_dry_run_upload_writes_nothing(client, operator):
    client.force_login(operator)
    answer = upload(client, GOOD_AND_BAD, dry_run=True)
    assert "Dry run: nothing was written" in answer.content.decode()
    assert not Service.objects.exists()


def test_it_refuses_other_files_with_a_message(client, operator):
    client.force_login(operator)
    answer = upload(client, "hello", name="services.txt")
    assert answer.status_code == 400
    assert "Upload a .json (HSDS) or .csv file." in answer.content.decode()


def test_only_operators_may_import(client, partner):
    partner.is_staff = True
    partner.save()
    client.force_login(partner)
    assert client.get(URL).status_code == 403
    assert upload(client, GOOD_AND_BAD).status_code == 403
    assert not Service.objects.exists()
