"""Forms of the instructor pages: parsing and field errors only; the rules live in services."""
from __future__ import annotations

from django import forms

from catalog.services import VISIBILITIES

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_LOCAL, **kwargs)


class ExerciseSettingsForm(forms.Form):
    """Deadline, late policy, submission limits and check visibility of one course exercise.

    Times are in the site's time zone (TIME_ZONE); penalties are entered in percent."""

    deadline = forms.DateTimeField(required=False, widget=DateTimeLocalInput(),
                                   input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
    late_deadline = forms.DateTimeField(required=False, widget=DateTimeLocalInput(), label="Hard cutoff",
                                        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
                                        help_text="Late submissions are accepted until then; empty: none.")
    late_penalty_percent = forms.FloatField(min_value=0, max_value=100, initial=0, label="Late penalty (%)",
                                            help_text="Taken once from a late submission's points.")
    late_penalty_per_day_percent = forms.FloatField(min_value=0, max_value=100, initial=0,
                                                    label="Penalty per day late (%)",
                                                    help_text="And this much more per started day after the "
                                                              "deadline.")
    max_submissions = forms.IntegerField(required=False, min_value=1, label="Submissions in total",
                                         help_text="Empty: unlimited. Infrastructure errors never count.")
    max_submissions_per_day = forms.IntegerField(required=False, min_value=1, label="Submissions per day",
                                                 help_text="Per calendar day; empty: unlimited.")
    points = forms.FloatField(min_value=0.01)
    published = forms.BooleanField(required=False)

    def __init__(self, *args, checks: list[dict], overrides: dict[str, str], training: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if training:
            self.fields["leaderboard_hidden_until_deadline"] = forms.BooleanField(
                required=False, label="Hide the leaderboard from students until the deadline",
                help_text="Instructors always see it.")
        self.check_names, self.current_visibility = [], {}
        for check in checks:
            field = f"visibility__{check['name']}"
            self.current_visibility[check["name"]] = overrides.get(check["name"], check["visibility"])
            self.fields[field] = forms.ChoiceField(
                choices=[(v, v.replace("_", " ")) for v in VISIBILITIES], required=False,
                initial=self.current_visibility[check["name"]],
                label=f"{check['title']} ({check['points']:g} pts; exercise default: {check['visibility']})")
            self.check_names.append(check["name"])

    @classmethod
    def initial_for(cls, ce) -> dict:
        return {"deadline": ce.deadline, "late_deadline": ce.late_deadline,
                "late_penalty_percent": round(ce.late_penalty * 100, 4),
                "late_penalty_per_day_percent": round(ce.late_penalty_per_day * 100, 4),
                "max_submissions": ce.max_submissions, "max_submissions_per_day": ce.max_submissions_per_day,
                "points": ce.points, "published": ce.published,
                "leaderboard_hidden_until_deadline": ce.leaderboard_hidden_until_deadline}

    def visibility_fields(self):
        return [self[f"visibility__{name}"] for name in self.check_names]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        leaderboard = ({"leaderboard_hidden_until_deadline": data["leaderboard_hidden_until_deadline"]}
                       if "leaderboard_hidden_until_deadline" in self.fields else {})
        return {**leaderboard, "deadline": data["deadline"], "late_deadline": data["late_deadline"],
                "late_penalty": data["late_penalty_percent"] / 100,
                "late_penalty_per_day": data["late_penalty_per_day_percent"] / 100,
                "max_submissions": data["max_submissions"], "max_submissions_per_day": data["max_submissions_per_day"],
                "points": data["points"], "published": data["published"],
                "check_visibility": {name: data[f"visibility__{name}"] or self.current_visibility[name]
                                     for name in self.check_names}}  # a field left out keeps its setting


class EnrolmentCsvForm(forms.Form):
    file = forms.FileField(label="CSV file (username,email[,name] per line)")


class CourseCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=50, label="Short name (in addresses)",
                           help_text="Letters, digits, - and _; e.g. dgm-2027.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class AddExerciseForm(forms.Form):
    """One exercise of the synced catalogue, by title; the choices are set by the view."""

    exercise = forms.ChoiceField(label="Exercise")
    points = forms.FloatField(min_value=0.01, initial=10)
    deadline = forms.DateTimeField(required=False, widget=DateTimeLocalInput(),
                                   input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
    published = forms.BooleanField(required=False, label="Publish to students now")

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exercise"].choices = choices


class AddStaffForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=[("ta", "Teaching assistant"), ("instructor", "Co-instructor")])


class ExtensionForm(forms.Form):
    """An extension for one student; the student choices are set by the view. Times in TIME_ZONE."""

    student = forms.ChoiceField()
    deadline = forms.DateTimeField(required=False, widget=DateTimeLocalInput(), label="New deadline",
                                   input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
                                   help_text="Empty: the exercise's deadline. A hard cutoff moves by as much.")
    extra_attempts = forms.IntegerField(min_value=0, max_value=1000, initial=0, required=False,
                                        label="Extra attempts", help_text="On top of the total submission limit.")
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="The student reads it.")

    def __init__(self, *args, students: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = students
