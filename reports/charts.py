"""The planners' charts, drawn on the server as SVG with pygal.

Each chart is its own URL (reports/views.py), shown with <picture> (the narrow drawing on
phones) beside the table it is drawn from, so the page needs no script and no inline
style. pygal's SVG carries its own <style>; the chart responses get their own policy
allowing that and nothing else (CHART_POLICY: no script, no external load).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pygal
from pygal.etree import etree
from pygal.style import Style

from reports.selectors import gap_report, referral_report

OUTCOMES = [
    ("open", "Still open", "#768692"),
    ("accepted", "Accepted", "#005eb8"),
    ("completed", "Completed", "#007f3b"),
    ("declined", "Declined", "#d5281b"),
    ("cancelled", "Cancelled", "#425563"),
    ("expired", "Expired", "#ffb81c"),
]
PALETTE = ("#005eb8", "#007f3b", "#d5281b", "#ffb81c", "#330072", "#ae2573", "#00a499")
# The gaps chart's categories: few enough to tell apart at a glance, in colours that stay
# distinct for the common colour-vision deficiencies (Okabe and Ito's palette), the rest
# summed as "Other categories" in grey. The table below the chart has every category.
GAP_PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
GAP_NAMED = 5  # with more categories than colours: the five with most gaps, then "Other"
GAP_OTHER, GAP_OTHER_COLOR = "Other categories", "#768692"
RESPONSE_SERIES = [
    ("acknowledge_median_minutes", "Acknowledge, median"),
    ("acknowledge_p90_minutes", "Acknowledge, 90th percentile"),
    ("accept_median_minutes", "Accept, median"),
    ("accept_p90_minutes", "Accept, 90th percentile"),
]


@dataclass(frozen=True)
class Layout:
    """How a chart is drawn. An SVG scales with its column: a 900 px chart on a 360 px phone
    shrinks its text to 40%. Phones get the phone drawing (the page picks it with <picture>
    below 40em): 400 px wide with 18 px text, which shows at about 15 px, bars laid
    sideways so that their labels read without rotating, and no title (the page's heading
    says it)."""

    width: int
    height: int
    font: int
    legend_columns: int
    boroughs: int  # charted in the gaps chart
    phone: bool


LAYOUTS = {
    "wide": Layout(width=900, height=420, font=15, legend_columns=3, boroughs=12, phone=False),
    "narrow": Layout(width=400, height=600, font=18, legend_columns=1, boroughs=8, phone=True),
}
LABEL_CHARS_ON_PHONES = 14


def _labels(labels: list[str], layout: Layout) -> list[str]:
    """Axis labels; on a phone, short enough to leave the bars room (the table has them whole)."""
    if not layout.phone:
        return labels
    return [
        label if len(label) <= LABEL_CHARS_ON_PHONES else label[: LABEL_CHARS_ON_PHONES - 1] + "…"
        for label in labels
    ]


CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


# --- data behind the charts ----------------------------------------------------------


def weekly_rows(filters):
    return referral_report(filters=filters, group_by="week")


def rows_by_category(filters):
    return referral_report(filters=filters, group_by="category")


def rows_by_ics(filters):
    return referral_report(filters=filters, group_by="ics")


def gap_matrix(filters) -> dict[str, Any]:
    """Gaps as boroughs x categories (only those with any gap), most gaps first."""
    rows = [row for row in gap_report(filters=filters) if row["gaps"]]
    boroughs: dict[str, int] = {}
    categories: dict[str, str] = {}
    cells: dict[tuple[str, str], int] = {}
    for row in rows:
        boroughs[row["borough_name"]] = boroughs.get(row["borough_name"], 0) + row["gaps"]
        categories[row["category"]] = row["category_name"]
        cells[(row["borough_name"], row["category"])] = row["gaps"]
    ordered = sorted(boroughs, key=lambda name: (-boroughs[name], name))
    return {
        "rows": rows,
        "boroughs": ordered,
        "categories": sorted(categories.items(), key=lambda item: item[1]),
        "table": [
            {
                "borough": name,
                "cells": [
                    cells.get((name, code), 0) for code in sorted(categories, key=categories.get)
                ],
                "total": boroughs[name],
            }
            for name in ordered
        ],
        "cells": cells,
    }


# --- charts --------------------------------------------------------------------------


def _style(layout: Layout, colors=PALETTE) -> Style:
    return Style(
        background="white",
        plot_background="white",
        foreground="#212b32",
        foreground_strong="#212b32",
        foreground_subtle="#4c6272",
        colors=tuple(colors),
        font_family="Arial, Helvetica, sans-serif",
        label_font_size=layout.font,
        major_label_font_size=layout.font,
        legend_font_size=layout.font,
        title_font_size=layout.font + 3,
        value_font_size=layout.font - 1,
        value_label_font_size=layout.font - 1,
        tooltip_font_size=layout.font,
        no_data_font_size=layout.font + 3,
    )


def _chart(kind, *, layout: Layout, colors=PALETTE, title: str = "", **config):
    return kind(
        style=_style(layout, colors),
        js=[],  # no script: the chart is shown as an image
        width=layout.width,
        height=layout.height,
        title=None if layout.phone else title,
        legend_at_bottom=True,
        legend_at_bottom_columns=layout.legend_columns,
        # On a phone, pygal shortens a legend that would run off the chart.
        truncate_legend=None if layout.phone else -1,
        truncate_label=-1,
        no_data_text="No data for these filters",
        # The value axis lies along 400 px on a phone: few graduations, or they run together.
        max_scale=5 if layout.phone else 16,
        **config,
    )


def chart_weekly(filters, layout: Layout = LAYOUTS["wide"]) -> pygal.Graph:
    rows = weekly_rows(filters)
    chart = _chart(
        pygal.HorizontalStackedBar if layout.phone else pygal.StackedBar,
        layout=layout,
        colors=[color for _, _, color in OUTCOMES],
        title="Referrals per week, by outcome",
        x_label_rotation=0 if layout.phone else 30,
        y_title=None if layout.phone else "Referrals",
    )
    # A phone has room for the week's day and month, not "w/c" and the year.
    chart.x_labels = [
        f"{row['key'].day} {row['key']:%b}" if layout.phone else row["label"] for row in rows
    ]
    if any(row["referrals"] for row in rows):
        for key, label, _ in OUTCOMES:
            chart.add(label, [row[key] for row in rows])
    return chart


def chart_acceptance(filters, layout: Layout = LAYOUTS["wide"]) -> pygal.Graph:
    rows = [row for row in rows_by_category(filters) if row["acceptance_rate"] is not None]
    chart = _chart(
        pygal.HorizontalBar,
        layout=layout,
        title="Acceptance rate by category (%)",
        range=(0, 100),
        # Quarters on a phone; not without data, where pygal fails on fixed labels.
        y_labels=[0, 25, 50, 75, 100] if layout.phone and rows else None,
        show_legend=False,
        print_values=not layout.phone,
        value_formatter=lambda value: f"{value:.0f}%",
    )
    chart.x_labels = _labels([row["label"] for row in rows], layout)
    if rows:
        chart.add("Acceptance rate", [round(row["acceptance_rate"] * 100, 1) for row in rows])
    return chart


def chart_response(filters, layout: Layout = LAYOUTS["wide"]) -> pygal.Graph:
    rows = rows_by_ics(filters)
    chart = _chart(
        pygal.HorizontalBar if layout.phone else pygal.Bar,
        layout=layout,
        title="Response times by ICS (minutes)",
        y_title=None if layout.phone else "Minutes",
        colors=("#41b6e6", "#005eb8", "#78be20", "#007f3b"),
    )
    # On a phone, the codes planners use (NCL, SWL...); the table has the names.
    chart.x_labels = [row["key"] if layout.phone else row["label"] for row in rows]
    if any(row[key] is not None for row in rows for key, _ in RESPONSE_SERIES):
        for key, label in RESPONSE_SERIES:
            # "centile" says the same in less room.
            label = label.replace("percentile", "centile") if layout.phone else label
            chart.add(label, [row[key] for row in rows])
    return chart


def chart_gaps(filters, layout: Layout = LAYOUTS["wide"]) -> pygal.Graph:
    matrix = gap_matrix(filters)
    boroughs = matrix["boroughs"][: layout.boroughs]
    totals = {code: 0 for code, _ in matrix["categories"]}
    for (_, code), gaps in matrix["cells"].items():
        totals[code] += gaps
    names = dict(matrix["categories"])
    ranked = sorted(totals, key=lambda code: (-totals[code], names[code]))
    if len(ranked) <= len(GAP_PALETTE):
        charted, others = ranked, []
    else:
        charted, others = ranked[:GAP_NAMED], ranked[GAP_NAMED:]
    colors = [*GAP_PALETTE[: len(charted)], *([GAP_OTHER_COLOR] if others else [])]
    chart = _chart(
        pygal.HorizontalStackedBar if layout.phone else pygal.StackedBar,
        layout=layout,
        colors=colors,
        title="Searches with no eligible open service, by borough and category",
        x_label_rotation=0 if layout.phone else 30,
        y_title=None if layout.phone else "Searches",
    )
    chart.x_labels = _labels(boroughs, layout)
    for code in charted:
        chart.add(names[code], [matrix["cells"].get((borough, code), 0) for borough in boroughs])
    if others:
        chart.add(
            GAP_OTHER,
            [
                sum(matrix["cells"].get((borough, code), 0) for code in others)
                for borough in boroughs
            ],
        )
    return chart


def svg_without_script(chart: pygal.Graph) -> bytes:
    """The chart's SVG less the config <script> pygal always embeds (tooltips we do not use)."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return b"<?xml version='1.0' encoding='utf-8'?>\n" + etree.tostring(tree)


def chart_suppressed(name: str, chart: pygal.Graph, filters, threshold: int) -> None:
    """A planner's chart hides what the tables beside it hide: counts from 1 to threshold-1
    (weekly, gaps) and the rates and times of groups with fewer referrals (acceptance,
    response). Applied to the chart's series after it is drawn up, before rendering."""
    if threshold <= 1:
        return
    if name in {"weekly", "gaps"}:

        def keep(index: int, value):
            small = isinstance(value, int) and 0 < value < threshold
            return None if small else value

    else:
        rows = rows_by_category(filters) if name == "acceptance" else rows_by_ics(filters)
        hidden = {row["label"] for row in rows if row["referrals"] < threshold}
        labels = list(chart.x_labels or [])

        def keep(index: int, value):
            return None if index < len(labels) and labels[index] in hidden else value

    chart.raw_series = [
        ([keep(index, value) for index, value in enumerate(values)], options)
        for values, options in chart.raw_series
    ]


CHARTS = {
    "weekly": chart_weekly,
    "acceptance": chart_acceptance,
    "response": chart_response,
    "gaps": chart_gaps,
}
