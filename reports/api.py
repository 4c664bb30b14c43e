"""Reports API for planners and operators: aggregates and the de-identified extract.

Every endpoint answers ?format=json (default), csv or xlsx. DRF would read `format` as a
renderer choice and answer 404 for csv; these views read it themselves instead (see
_OwnFormatParameter). CSV streams row by row; XLSX is written in openpyxl's write-only
mode to a temporary file and sent from there.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from directory.permissions import RolePermission, can_read_reports
from reports.exports import csv_chunks, table_rows, write_xlsx
from reports.extract import EXTRACT_COLUMNS, referral_extract_count, referral_extract_rows
from reports.filters import EXTRACT, GAPS, ReportFilters, report_filters_from, report_span_check
from reports.selectors import (
    GAP_COLUMNS,
    GROUP_BY_CHOICES,
    gap_report,
    referral_report,
    referral_report_columns,
)
from reports.suppression import (
    gap_rows_suppressed,
    referral_rows_suppressed,
    small_cell_threshold_for,
)

FORMATS = ("json", "csv", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit less the header row


class _NoFormatOverride:
    URL_FORMAT_OVERRIDE = None


class _OwnFormatParameter(DefaultContentNegotiation):
    """Content negotiation that leaves ?format= to the view (json, csv, xlsx)."""

    settings = _NoFormatOverride


def _format(request) -> str:
    chosen = (request.query_params.get("format") or "json").strip().lower()
    if chosen not in FORMATS:
        raise DomainError(
            f"format: use one of {', '.join(FORMATS)}.",
            code="invalid",
            fields={"format": [f"Use one of {', '.join(FORMATS)}."]},
        )
    return chosen


def _filename(stem: str, filters: ReportFilters, extension: str) -> str:
    span = ""
    if filters.date_from or filters.date_to:
        span = f"-{filters.date_from or 'start'}-to-{filters.date_to or 'now'}"
    return f"{stem}{span}.{extension}"


def csv_response(filename: str, header: list[str], rows: Iterable) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_chunks(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(filename: str, sheets: Iterable[tuple[str, list[str], Iterable]]) -> FileResponse:
    # The workbook goes to a temporary file, not memory; FileResponse closes (deletes) it.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse owns and closes it
    write_xlsx(spool, sheets)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _json_chunks(columns: list[str], rows: Iterator[tuple], batch: int = 1000) -> Iterator[str]:
    yield '{"columns": ' + json.dumps(columns) + ', "rows": ['
    pending: list[str] = []
    first = True
    for row in rows:
        pending.append(json.dumps(row))
        if len(pending) >= batch:
            yield ("" if first else ",") + ",".join(pending)
            first, pending = False, []
    if pending:
        yield ("" if first else ",") + ",".join(pending)
    yield "]}"


_FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First London day (YYYY-MM-DD)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last London day, inclusive"),
    OpenApiParameter("ics", str, enum=["NCL", "NEL", "NWL", "SEL", "SWL"]),
    OpenApiParameter("borough", str, description="Borough slug or GSS code (of the service)"),
    OpenApiParameter("category", str, description="Category code"),
    OpenApiParameter("service", int, description="Service id"),
    OpenApiParameter("format", str, enum=list(FORMATS), description="json (default), csv, xlsx"),
]


class _ReportApi(APIView):
    permission_classes = [RolePermission.of(can_read_reports)]
    content_negotiation_class = _OwnFormatParameter


class ReferralReportApi(_ReportApi):
    """Referral counts by outcome, acceptance rate and response times, grouped."""

    @extend_schema(
        parameters=[
            *_FILTER_PARAMETERS,
            OpenApiParameter("group_by", str, enum=list(GROUP_BY_CHOICES)),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        chosen = _format(request)
        filters = report_filters_from(request.query_params)
        group_by = request.query_params.get("group_by") or "week"
        filters = report_span_check(filters, report=group_by)
        rows = referral_rows_suppressed(
            referral_report(filters=filters, group_by=group_by),
            threshold=small_cell_threshold_for(request.user),
        )
        columns = referral_report_columns(group_by)
        stem = f"referrals-by-{group_by}"
        if chosen == "csv":
            return csv_response(_filename(stem, filters, "csv"), columns, table_rows(rows, columns))
        if chosen == "xlsx":
            return xlsx_response(
                _filename(stem, filters, "xlsx"),
                [(f"Referrals by {group_by}", columns, table_rows(rows, columns))],
            )
        return Response({"group_by": group_by, "filters": filters.as_query(), "rows": rows})


class ReferralExtractApi(_ReportApi):
    """One de-identified row per referral: pseudonym, week, place, service, outcome, times."""

    @extend_schema(parameters=_FILTER_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        chosen = _format(request)
        filters = report_span_check(report_filters_from(request.query_params), report=EXTRACT)
        columns = EXTRACT_COLUMNS
        rows = referral_extract_rows(filters=filters)
        if chosen == "csv":
            return csv_response(_filename("referrals", filters, "csv"), columns, rows)
        if chosen == "xlsx":
            if referral_extract_count(filters=filters) > XLSX_MAX_ROWS:
                raise DomainError(
                    "Too many referrals for one spreadsheet; narrow the dates or use CSV.",
                    code="too_many_rows",
                    fields={"format": ["Use csv, or narrow from/to."]},
                )
            return xlsx_response(
                _filename("referrals", filters, "xlsx"), [("Referrals", columns, rows)]
            )
        return StreamingHttpResponse(_json_chunks(columns, rows), content_type="application/json")


class GapReportApi(_ReportApi):
    """Searches that found no eligible open service, by borough and category."""

    @extend_schema(parameters=_FILTER_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        chosen = _format(request)
        filters = report_span_check(report_filters_from(request.query_params), report=GAPS)
        rows: list[dict[str, Any]] = gap_rows_suppressed(
            gap_report(filters=filters),
            threshold=small_cell_threshold_for(request.user),
        )
        columns = GAP_COLUMNS
        if chosen == "csv":
            return csv_response(
                _filename("gaps", filters, "csv"), columns, table_rows(rows, columns)
            )
        if chosen == "xlsx":
            return xlsx_response(
                _filename("gaps", filters, "xlsx"),
                [("Gaps", columns, table_rows(rows, columns))],
            )
        return Response({"filters": filters.as_query(), "rows": rows})
