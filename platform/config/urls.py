from django.contrib import admin
from django.urls import include, path

from catalog.import_views import import_decide, import_detail, import_list
from catalog.views import exercise_detail, starter_download
from courses.views import course_dashboard, course_detail, course_join, course_list
from leaderboard.api import leaderboard_api
from submissions.api import submission_cancel_api, submission_create_api, submission_detail_api
from submissions.code_views import submission_code, submission_download, submission_load, training_kit_download
from submissions.views import submission_cancel_view, submission_detail, submission_sample_grid, submission_upload
from workers.views import course_status, platform_status

urlpatterns = [
    path("", course_list, name="course-list"),
    path("", include("accounts.urls")),  # log in and out, passwords, API tokens
    path("courses/join/", course_join, name="course-join"),
    path("courses/<slug:slug>/", course_detail, name="course-detail"),
    path("courses/<slug:slug>/dashboard/", course_dashboard, name="course-dashboard"),
    path("courses/<slug:slug>/status/", course_status, name="course-status"),  # before <exercise_slug>
    path("courses/<slug:course_slug>/<slug:exercise_slug>/", exercise_detail, name="exercise-detail"),
    path("courses/<slug:course_slug>/<slug:exercise_slug>/starter.py", starter_download, {"kind": "py"},
         name="starter-py"),
    path("courses/<slug:course_slug>/<slug:exercise_slug>/starter.ipynb", starter_download, {"kind": "ipynb"},
         name="starter-ipynb"),
    path("courses/<slug:course_slug>/<slug:exercise_slug>/local-training.zip", training_kit_download,
         name="training-kit"),
    path("courses/<slug:course_slug>/<slug:exercise_slug>/submit/", submission_upload, name="submission-upload"),
    path("submissions/<int:submission_id>/", submission_detail, name="submission-detail"),
    path("submissions/<int:submission_id>/samples.png", submission_sample_grid, name="submission-sample-grid"),
    path("submissions/<int:submission_id>/code/", submission_code, name="submission-code"),
    path("submissions/<int:submission_id>/download/", submission_download, name="submission-download"),
    path("submissions/<int:submission_id>/edit/", submission_load, name="submission-load"),
    path("submissions/<int:submission_id>/cancel/", submission_cancel_view, name="submission-cancel"),
    path("imports/", import_list, name="catalog-imports"),
    path("imports/<int:import_id>/", import_detail, name="catalog-import-detail"),
    path("imports/<int:import_id>/<str:decision>/", import_decide, name="catalog-import-decide"),
    path("status/", platform_status, name="platform-status"),
    path("", include("leaderboard.urls")),  # namespace "leaderboard"
    path("api/submissions/", submission_create_api, name="api-submission-create"),
    path("api/submissions/<int:submission_id>/", submission_detail_api, name="api-submission-detail"),
    path("api/submissions/<int:submission_id>/cancel/", submission_cancel_api, name="api-submission-cancel"),
    path("api/courses/<slug:course_slug>/exercises/<slug:exercise_slug>/leaderboard/", leaderboard_api,
         name="api-leaderboard"),
    path("instructor/", include("courses.urls")),  # namespace "courses": the instructor's pages
    path("admin/", admin.site.urls),
]
