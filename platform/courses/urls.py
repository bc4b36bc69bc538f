"""The instructor's pages, namespace `courses` (names are stable: browser tests use them)."""
from django.urls import path

from . import extension_views, gradebook_views, roster_views, similarity_views
from . import instructor_views as views

app_name = "courses"

urlpatterns = [
    path("new/", roster_views.course_new, name="course_new"),
    path("<slug:slug>/roster/", roster_views.roster, name="roster"),
    path("<slug:slug>/roster/add/", roster_views.roster_add, name="roster_add"),
    path("<slug:slug>/roster/<int:enrollment_id>/", roster_views.roster_change, name="roster_change"),
    path("<slug:slug>/add-exercise/", roster_views.exercise_add, name="exercise_add"),
    path("<slug:slug>/enrol/", views.enrol_csv, name="enrol_csv"),
    path("<slug:slug>/invite-code/rotate/", views.invite_rotate, name="invite_rotate"),
    path("<slug:slug>/gradebook/", gradebook_views.gradebook_page, name="gradebook"),
    path("<slug:slug>/gradebook-<str:flavour>.csv", gradebook_views.gradebook_csv, name="gradebook_csv"),
    path("<slug:slug>/grades.csv", views.grades_csv, name="grades_csv"),
    path("<slug:slug>/leaderboard-pseudonyms/", views.leaderboard_pseudonyms, name="leaderboard_pseudonyms"),
    path("<slug:slug>/exercises/<slug:exercise_slug>/", views.exercise_dashboard, name="exercise_dashboard"),
    path("<slug:slug>/exercises/<slug:exercise_slug>/settings/", views.exercise_settings, name="exercise_settings"),
    path("<slug:slug>/exercises/<slug:exercise_slug>/regrade/", views.exercise_regrade_all,
         name="exercise_regrade_all"),
    path("<slug:slug>/exercises/<slug:exercise_slug>/regrade/confirm/", views.exercise_regrade_all_confirm,
         name="exercise_regrade_all_confirm"),
    path("<slug:slug>/exercises/<slug:exercise_slug>/extensions/", extension_views.extensions, name="extensions"),
    path("<slug:slug>/exercises/<slug:exercise_slug>/extensions/<int:extension_id>/revoke/",
         extension_views.extension_delete, name="extension_revoke"),
    path("<slug:slug>/exercises/<slug:exercise_slug>/similarity/", similarity_views.similarity_report,
         name="similarity"),
    path("<slug:slug>/exercises/<slug:exercise_slug>/similarity/<int:a_id>-<int:b_id>/",
         similarity_views.similarity_pair, name="similarity_pair"),
    path("submissions/<int:submission_id>/regrade/", views.regrade_submission, name="submission_regrade"),
]
