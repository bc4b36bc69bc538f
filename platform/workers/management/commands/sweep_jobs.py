from django.core.management.base import BaseCommand

from workers.tasks import sweep_jobs


class Command(BaseCommand):
    help = ("Requeue running jobs (submissions, baselines) whose worker stopped heartbeating, and send again the "
            "queued submissions whose message may be lost: what the beat task does every DGM_SWEEP_EVERY_S.")

    def handle(self, *args, **options):
        swept = sweep_jobs()
        self.stdout.write(f"requeued {len(swept['submissions'])} submission(s) {swept['submissions']} and "
                          f"{len(swept['baselines'])} baseline(s) {swept['baselines']}")
