"""The planners' reports page and its charts' URLs, mounted at /reports/.

Each chart is its own URL, /reports/charts/<name>.svg?<filters>[&layout=narrow], drawn by
reports/charts.py; the page is tables, filters and links to the exports.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from config.errors import DomainError
from directory.models import ICS, Borough, Category, Service
from directory.permissions import can_read_reports
from reports import charts
from reports.filters import ReportFilters, report_filters_from, report_span_check
from reports.selectors import referral_totals
from reports.suppression import (
    referral_rows_suppressed,
    small_cell,
    small_cell_threshold_for,
    suppress_small_cells,
)

WEEKS_SHOWN = 12


def _allowed(request: HttpRequest) -> None:
    if not can_read_reports(request.user):
        raise PermissionDenied


def _filters(request: HttpRequest) -> tuple[ReportFilters, dict[str, list[str]]]:
    """The page's filters; without dates, the last 12 whole weeks up to today."""
    params = request.GET.copy()
    today = timezone.localdate()
    if not params.get("from") and not params.get("to"):
        monday = today - timedelta(days=today.weekday())
        params["from"] = (monday - timedelta(weeks=WEEKS_SHOWN - 1)).isoformat()
        params["to"] = today.isoformat()
    try:
        # The page draws weeks: the week grouping's span cap is the page's.
        filters = report_filters_from(params)
        return report_span_check(filters, report="week", today=today), {}
    except DomainError as refused:
        return ReportFilters(
            date_from=today - timedelta(weeks=WEEKS_SHOWN), date_to=today
        ), refused.fields


@require_GET
@login_required
def reports_chart(request: HttpRequest, name: str) -> HttpResponse:
    _allowed(request)
    if name not in charts.CHARTS:
        raise Http404
    filters, _ = _filters(request)
    layout = charts.LAYOUTS.get(request.GET.get("layout", ""), charts.LAYOUTS["wide"])
    chart = charts.CHARTS[name](filters, layout)
    charts.chart_suppressed(name, chart, filters, small_cell_threshold_for(request.user))
    response = HttpResponse(charts.svg_without_script(chart), content_type="image/svg+xml")
    response["Content-Security-Policy"] = charts.CHART_POLICY
    response["Cache-Control"] = "private, max-age=60"
    return response


# --- the page ------------------------------------------------------------------------


def _query(filters: ReportFilters, **extra: str) -> str:
    query = QueryDict(mutable=True)
    query.update(filters.as_query())
    query.update(extra)
    return query.urlencode()


@require_GET
@login_required
def reports_page(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    filters, errors = _filters(request)
    # Every figure shown is small-cell suppressed ("<5") for planners; the busiest week is
    # found before that.
    threshold = small_cell_threshold_for(request.user)
    weekly_counts = charts.weekly_rows(filters)
    busiest_key = max(weekly_counts, key=lambda row: row["referrals"], default={}).get("key")
    weekly = referral_rows_suppressed(weekly_counts, threshold=threshold)
    busiest = next((row for row in weekly if row["key"] == busiest_key), None)
    by_category = referral_rows_suppressed(
        (
            {**row, "accepted_and_completed": row["accepted"] + row["completed"]}
            for row in charts.rows_by_category(filters)
        ),
        threshold=threshold,
    )
    by_category = suppress_small_cells(
        by_category, counts=["accepted_and_completed"], base="", derived=[], threshold=threshold
    )
    by_ics = referral_rows_suppressed(charts.rows_by_ics(filters), threshold=threshold)
    gaps = charts.gap_matrix(filters)
    gaps["table"] = [
        {
            **row,
            "cells": [small_cell(cell, threshold) for cell in row["cells"]],
            "total": small_cell(row["total"], threshold),
        }
        for row in gaps["table"]
    ]
    totals = referral_rows_suppressed([referral_totals(filters=filters)], threshold=threshold)[0]
    query = _query(filters)

    def export(path: str, fmt: str, **extra: str) -> str:
        return f"{reverse(path)}?{_query(filters, format=fmt, **extra)}"

    exports = [
        ("Referrals per week", "reports-api:referrals", {"group_by": "week"}),
        ("Referrals by category", "reports-api:referrals", {"group_by": "category"}),
        ("Referrals by ICS", "reports-api:referrals", {"group_by": "ics"}),
        ("Referrals by service", "reports-api:referrals", {"group_by": "service"}),
        ("Referrals by outcome", "reports-api:referrals", {"group_by": "outcome"}),
        ("Gaps by borough and category", "reports-api:gaps", {}),
        ("One row per referral (de-identified)", "reports-api:referral-rows", {}),
    ]
    context = {
        "filters": filters,
        "errors": errors,
        "query": query,
        "totals": totals,
        "weekly": weekly,
        "busiest": busiest,
        "outcomes": charts.OUTCOMES,
        "by_category": by_category,
        "by_ics": by_ics,
        "gaps": gaps,
        "exports": [
            {
                "label": label,
                "csv": export(name, "csv", **extra),
                "xlsx": export(name, "xlsx", **extra),
            }
            for label, name, extra in exports
        ],
        "ics_choices": ICS.choices,
        "boroughs": Borough.objects.order_by("name"),
        "categories": Category.objects.order_by("name"),
        "services": Service.objects.filter(active=True).order_by("name").only("pk", "name"),
    }
    return render(request, "reports/index.html", context)
