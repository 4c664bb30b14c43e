"""Import services from an HSDS 3.0 export (file or URL); upsert by id, re-runs change nothing."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from directory.hsds.importer import HsdsSourceError, hsds_load, hsds_records
from directory.imports import ImportSummary, records_import


def report(command: BaseCommand, summary: ImportSummary, *, dry_run: bool) -> None:
    for where, why in summary.rejected:
        command.stdout.write(f"rejected {where}: {why}")
    prefix = "dry run (nothing written): " if dry_run else ""
    command.stdout.write(prefix + summary.line())


class Command(BaseCommand):
    help = (
        "Import services from an HSDS 3.0 JSON export: the paged /services responses "
        "(full records) or a list of full service records, from a file or a URL."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help="a file path, or an http(s) URL of an HSDS /services")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, *args, source: str, dry_run: bool, **options) -> None:
        try:
            services = hsds_load(source)
        except HsdsSourceError as exc:
            raise CommandError(str(exc)) from None
        with tqdm(total=len(services), unit="service", file=self.stderr, disable=None) as bar:
            summary = records_import(hsds_records(services), dry_run=dry_run, progress=bar.update)
        report(self, summary, dry_run=dry_run)
