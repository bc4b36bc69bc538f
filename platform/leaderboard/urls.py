"""The leaderboard pages, namespace `leaderboard`."""
from django.urls import path

from . import views

app_name = "leaderboard"

urlpatterns = [
    path("courses/<slug:course_slug>/<slug:exercise_slug>/leaderboard/", views.board, name="board"),
    path("courses/<slug:course_slug>/<slug:exercise_slug>/leaderboard.csv", views.board_csv, name="csv"),
    path("submissions/<int:submission_id>/leaderboard/choose/", views.choose, name="choose"),
    path("submissions/<int:submission_id>/leaderboard/clear-choice/", views.clear_choice, name="clear_choice"),
    path("submissions/<int:submission_id>/leaderboard/disqualify/", views.disqualify, name="disqualify"),
    path("submissions/<int:submission_id>/leaderboard/reinstate/", views.reinstate, name="reinstate"),
    path("courses/<slug:course_slug>/<slug:exercise_slug>/leaderboard/reveal/", views.reveal, name="reveal"),
    path("submissions/<int:submission_id>/leaderboard/memorisation/", views.memorisation, name="memorisation"),
    path("submissions/<int:submission_id>/leaderboard/memorisation.png", views.memorisation_pairs,
         name="memorisation_pairs"),
    path("submissions/<int:submission_id>/leaderboard/review/", views.review, name="review"),
]
