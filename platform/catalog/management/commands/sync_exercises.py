from django.core.management.base import BaseCommand

from catalog.services import exercise_sync_all


class Command(BaseCommand):
    help = "Create or update exercises from the exercises/ folder (idempotent; a changed exercise gets a new version)."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="only these exercises (default: all)")

    def handle(self, *args, slugs, **options):
        report = exercise_sync_all(slugs=slugs or None)
        for kind in ("created", "updated", "unchanged"):
            for slug in getattr(report, kind):
                self.stdout.write(f"{kind:9} {slug}")
