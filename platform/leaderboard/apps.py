from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    """The FID leaderboards of the training exercises: entries from graded results, reference baselines,
    the students' choices and the instructors' moderation."""

    name = "leaderboard"
