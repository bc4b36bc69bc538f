"""A demo course with every exercise (the five core ones, then the training exercises with their
leaderboards, pseudonyms on), one instructor and two students.

Passwords are generated and printed once; running it again resets them."""
import secrets
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from catalog.models import CourseExercise, Exercise
from catalog.services import course_exercise_create, exercise_sync_all
from courses.models import Course, Enrollment
from courses.services import course_create, course_set_leaderboard_pseudonyms, enrollment_create

DEMO_SLUG = "dgm-demo"
PEOPLE = [("instructor", Enrollment.Role.INSTRUCTOR), ("alice", Enrollment.Role.STUDENT),
          ("bob", Enrollment.Role.STUDENT)]
# The syllabus in teaching order (as CS236 teaches it: autoregressive models, VAEs, flows, GANs, score-based
# and diffusion models), each core exercise before the training exercise built on it (README's table).
ORDER = ["attention", "lm-sampling", "pixelcnn-mask", "pixelcnn-train",
         "vae-reparam", "vae-elbo", "vae-train",
         "flow-coupling", "flow-train",
         "gan-minimax", "wgan-gp", "gan-train",
         "score-matching", "ddpm-schedule", "ddpm-sampler", "ddpm-train", "sampler-race",
         "generate-fashion"]


class Command(BaseCommand):
    help = ("Create a demo course with every exercise (leaderboards with pseudonyms), one instructor and two students "
            "(passwords printed once).")

    @transaction.atomic
    def handle(self, *args, **options):
        exercise_sync_all()
        course = Course.objects.filter(slug=DEMO_SLUG).first() or course_create(
            slug=DEMO_SLUG, title="Deep generative models (demo)",
            description="Implement the pieces that make VAEs, GANs, diffusion models and transformers work.")
        course_set_leaderboard_pseudonyms(course=course, enabled=True)
        slugs = sorted(Exercise.objects.values_list("slug", flat=True),
                       key=lambda s: (ORDER.index(s) if s in ORDER else len(ORDER), s))
        deadline = timezone.now() + timedelta(days=14)
        for slug in slugs:
            exercise = Exercise.objects.get(slug=slug)
            if not CourseExercise.objects.filter(course=course, exercise=exercise).exists():
                course_exercise_create(course=course, exercise=exercise, points=10, deadline=deadline,
                                       late_deadline=deadline + timedelta(days=3), late_penalty=0.2,
                                       max_submissions=20)
        self.stdout.write(f"course {course.slug}: {len(slugs)} exercises, invite code {course.invite_code}")
        for username, role in PEOPLE:
            password = secrets.token_urlsafe(12)
            user = User.objects.filter(username=username).first()
            if user is None:
                user = user_create(username=username, password=password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            enrollment_create(user=user, course=course, role=role)
            self.stdout.write(f"{role:10} {username:10} password: {password}")
