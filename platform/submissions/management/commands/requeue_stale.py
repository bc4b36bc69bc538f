from django.core.management.base import BaseCommand

from submissions.services import submission_requeue_stale


class Command(BaseCommand):
    help = "Put submissions whose grading claim is older than the limit back in the queue."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, default=None, help="seconds (default: DGM_STALE_AFTER_S)")

    def handle(self, *args, older_than, **options):
        ids = submission_requeue_stale(older_than_s=older_than)
        self.stdout.write(f"requeued {len(ids)} submission(s): {ids}")
