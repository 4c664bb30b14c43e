"""The services import as an admin page for operators: upload HSDS JSON or CSV, see the summary.

The same code as the import_hsds and import_services commands (directory.imports), so
the upload upserts by external id, rejects bad rows with their line and reason, and keeps
the search index in step.
"""

from __future__ import annotations

import io
import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from directory.hsds.importer import HsdsSourceError, hsds_records, hsds_services_in
from directory.imports import records_import
from directory.imports_csv import CsvHeaderError, csv_records
from directory.permissions import is_operator

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ImportForm(forms.Form):
    file = forms.FileField(help_text="HSDS 3.0 JSON (.json) or the services CSV (.csv)")
    dry_run = forms.BooleanField(
        required=False, initial=True, help_text="Check and count only; write nothing."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB; use the command.")
        name = upload.name.lower()
        if not name.endswith((".json", ".csv")):
            raise forms.ValidationError("Upload a .json (HSDS) or .csv file.")
        return upload


def _records(upload):
    raw = upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError("The file is not UTF-8 text.") from None
    if upload.name.lower().endswith(".json"):
        try:
            return hsds_records(hsds_services_in(json.loads(text)))
        except (ValueError, HsdsSourceError) as exc:
            raise forms.ValidationError(f"Not an HSDS export: {exc}") from None
    return csv_records(io.StringIO(text, newline=""))


def services_import_view(request):
    """GET: the upload form. POST: run the import (or a dry run) and show what happened."""
    if not is_operator(request.user):
        raise PermissionDenied
    summary = None
    dry_run = True
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        dry_run = form.cleaned_data["dry_run"]
        try:
            summary = records_import(_records(form.cleaned_data["file"]), dry_run=dry_run)
        except CsvHeaderError as exc:
            form.add_error("file", str(exc))
        except forms.ValidationError as exc:
            form.add_error("file", exc)
    context = {
        **admin.site.each_context(request),
        "title": "Import services",
        "form": form,
        "summary": summary,
        "dry_run": dry_run,
    }
    status = 400 if request.method == "POST" and form.errors else 200
    return TemplateResponse(request, "admin/directory/import_services.html", context, status=status)
