"""Load the London demo data (idempotent) and print the demo logins."""

from __future__ import annotations

import importlib
import importlib.util

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from directory.demo import seed_demo
from directory.demo_data import DEMO_USERS, PARTNER_ODS
from directory.models import Organisation, Service


class Command(BaseCommand):
    help = "Load fictional London demo data: organisations, services, postcodes and users."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with DEBUG off (never on a live system: it adds demo users)",
        )

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo adds demo users with a known password; it refuses to run with "
                "DEBUG off. Pass --force if this really is a demo system."
            )
        report = seed_demo()
        if report.changed():
            self.stdout.write(
                f"Demo data: {report.organisations} organisations, {report.locations} sites, "
                f"{report.services} services, {report.postcodes} postcodes and "
                f"{report.users} users added or updated; capacity renewed on "
                f"{report.capacity_refreshed} services; {report.reindexed} services re-indexed."
            )
        else:
            self.stdout.write("Demo data already in place.")

        self._seed_activity()
        self._seed_endpoints()

        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo logins (password {settings.DEMO_PASSWORD!r}, set DEMO_PASSWORD to change "
                "it before the first run):"
            )
        )
        for user in DEMO_USERS:
            where = "admin at /admin/" if user.is_staff else "site"
            self.stdout.write(f"  {user.username:<14} {user.role:<9} {where}")
        self.stdout.write(f"  ({Service.objects.count()} services in the directory)")

    def _seed_endpoints(self) -> None:
        # After the activity: its back-dated referrals must not be sent to anyone.
        from integrations.demo import DEMO_EMAIL, demo_endpoints_seed, demo_receiver_url

        organisation = Organisation.objects.get(ods_code=PARTNER_ODS)
        if demo_endpoints_seed(organisation=organisation):
            self.stdout.write(
                f"Demo partner's endpoints: email to {DEMO_EMAIL} (printed on this console) and "
                f"a signed webhook to {demo_receiver_url()} (manage.py demo_receiver)."
            )

    def _seed_activity(self) -> None:
        # Referral and search activity for the reports lives with the referrals app; it
        # is optional so the directory demo stands on its own.
        if importlib.util.find_spec("referrals.demo") is None:
            return
        module = importlib.import_module("referrals.demo")
        seed_activity = getattr(module, "seed_activity", None)
        if callable(seed_activity):
            seed_activity(stdout=self.stdout)
