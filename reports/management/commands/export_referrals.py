"""manage.py export_referrals: the de-identified row-level extract to a CSV or XLSX file."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.errors import DomainError
from reports.exports import csv_chunks, write_xlsx
from reports.extract import EXTRACT_COLUMNS, referral_extract_count, referral_extract_rows
from reports.filters import report_filters_from

XLSX_MAX_ROWS = 1_048_575


class Command(BaseCommand):
    help = (
        "Write one de-identified row per referral (pseudonymous id, week, ICS, borough, "
        "category, service, organisation, outcome, times, age band) to a file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from", dest="date_from", default="", help="First London day, YYYY-MM-DD"
        )
        parser.add_argument("--to", dest="date_to", default="", help="Last London day, inclusive")
        parser.add_argument("--ics", default="")
        parser.add_argument("--borough", default="", help="Borough slug or GSS code")
        parser.add_argument("--category", default="", help="Category code")
        parser.add_argument("--service", default="", help="Service id")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", required=True, help="File to write")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar")

    def handle(self, *args, **options):
        try:
            filters = report_filters_from(
                {
                    "from": options["date_from"],
                    "to": options["date_to"],
                    "ics": options["ics"],
                    "borough": options["borough"],
                    "category": options["category"],
                    "service": options["service"],
                }
            )
        except DomainError as refused:
            raise CommandError(refused.message) from refused
        total = referral_extract_count(filters=filters)
        if options["format"] == "xlsx" and total > XLSX_MAX_ROWS:
            raise CommandError(f"{total} rows do not fit one spreadsheet; use --format csv.")

        progress = tqdm(
            total=total,
            unit=" rows",
            disable=options["no_progress"],
            file=sys.stderr,
            mininterval=0.5,
        )

        def counted(rows: Iterator[tuple]) -> Iterator[tuple]:
            for row in rows:
                yield row
                progress.update()

        rows = counted(referral_extract_rows(filters=filters))
        with progress:
            if options["format"] == "csv":
                with open(options["output"], "w", encoding="utf-8", newline="") as out:
                    for chunk in csv_chunks(EXTRACT_COLUMNS, rows):
                        out.write(chunk)
            else:
                write_xlsx(options["output"], [("Referrals", EXTRACT_COLUMNS, rows)])
        self.stdout.write(f"Wrote {total} referral(s) to {options['output']}.")
