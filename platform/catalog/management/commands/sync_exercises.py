from django.conf import settings
from django.core.management.base import BaseCommand

from catalog.services import exercise_sync_all
from leaderboard.services import baseline_queue, baseline_request_missing


class Command(BaseCommand):
    help = ("Create or update exercises from the exercises/ folder (idempotent; a changed exercise gets a new "
            "version, stored as a bundle for the workers), then queue the leaderboard baselines the training "
            "exercises lack (at the platform's training profile, DGM_TRAINING_PROFILE).")

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="only these exercises (default: all)")

    def handle(self, *args, slugs, **options):
        report = exercise_sync_all(slugs=slugs or None)
        for kind in ("created", "updated", "unchanged"):
            for slug in getattr(report, kind):
                self.stdout.write(f"{kind:9} {slug}")
        for baseline in baseline_request_missing(profile=settings.TRAINING_PROFILE, slugs=slugs or None):
            self.stdout.write(f"baseline  {baseline.exercise_version.exercise.slug} ({baseline.profile}) queued on "
                              f"{baseline_queue(baseline=baseline)}")
