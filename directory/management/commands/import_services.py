"""Import services from a CSV (one row per service at its location; columns in the README)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from directory.imports import records_import
from directory.imports_csv import CsvHeaderError, csv_records
from directory.management.commands.import_hsds import report


class Command(BaseCommand):
    help = "Import services from a CSV file; upsert by service_id, re-runs change nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="the CSV file (UTF-8, header row first)")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, *args, path: str, dry_run: bool, **options) -> None:
        try:
            stream = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from None
        with stream, tqdm(unit="row", file=self.stderr, disable=None) as bar:
            try:
                summary = records_import(csv_records(stream), dry_run=dry_run, progress=bar.update)
            except CsvHeaderError as exc:
                raise CommandError(f"{path}: {exc}") from None
        report(self, summary, dry_run=dry_run)
