"""Compare every search index row with what the source tables say; exit non-zero on drift."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from directory.index import search_index_check, services_index_rebuild


class Command(BaseCommand):
    help = (
        "Recompute each search index row from services, sites, categories and hours, print "
        "every difference (service, column, index value, source value) and exit 1 if any. "
        "The result is kept for the operators' admin (Search index checks)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="re-index the services that differ, then check again",
        )

    def handle(self, *args, repair: bool, **options):
        result = search_index_check()
        for difference in result.differences:
            self.stdout.write(str(difference))
        if repair and result.differences:
            drifted = {d.service_id for d in result.differences}
            services_index_rebuild(service_ids=drifted)
            self.stdout.write(f"Re-indexed {len(drifted)} services; checking again.")
            result = search_index_check()
            for difference in result.differences:
                self.stdout.write(str(difference))
        summary = (
            f"Checked {result.rows_checked} index rows: {len(result.differences)} differences."
        )
        if result.differences:
            # CommandError: exit status 1 from manage.py, an exception under call_command.
            raise CommandError(summary + " Run again with --repair to re-index them.")
        self.stdout.write(summary)
