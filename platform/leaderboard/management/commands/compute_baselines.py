from django.conf import settings
from django.core.management.base import BaseCommand

from leaderboard.services import baseline_queue, baseline_request_missing


class Command(BaseCommand):
    help = ("Queue the reference baselines the leaderboards lack (training exercises, current versions): each is "
            "computed by a worker of the training (or gpu) queue. Failed ones, and ones whose worker vanished, are "
            "queued again.")

    def add_arguments(self, parser):
        parser.add_argument("--slug", action="append", dest="slugs", help="only this exercise (repeatable)")
        parser.add_argument("--profile", default=settings.TRAINING_PROFILE,
                            help="training profile (default: DGM_TRAINING_PROFILE, now %(default)s)")

    def handle(self, *args, slugs, profile, **options):
        requested = baseline_request_missing(profile=profile, slugs=slugs)
        for baseline in requested:
            version = baseline.exercise_version
            self.stdout.write(f"queued    baseline {version.exercise.slug} ({profile}, version {version.version[:12]}) "
                              f"on queue {baseline_queue(baseline=baseline)}")
        if not requested:
            self.stdout.write(f"no baseline missing for the profile {profile}")
