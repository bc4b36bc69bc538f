"""The submission page of a training exercise explains the new scores of the result's `training` block:
FID with its bootstrap interval, KID ± its spread, precision, recall, density and coverage in words
with a verdict, and the per-class shares as an inline SVG bar chart. Older results still render."""
import re

import pytest
from django.urls import reverse

from submissions.models import Submission
from submissions.services import submission_create
from submissions.training_summary import fid_text, kid_text, metric_sentences, pct, training_summary, verdict

from .conftest import SOLUTION
from .leaderboard_world import finish, training_result

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SHARES = [0.31, 0.02, 0.08, 0.09, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]


def new_keys(**changes) -> dict:
    keys = {"fid_interval": [141.04, 156.31], "fid_bootstrap": 200, "reference_part": "public",
            "fidelity": {"k": 5, "precision": 0.81, "recall": 0.34, "density": 1.02, "coverage": 0.41},
            "class_shares": {"labels": list(LABELS), "shares": list(SHARES), "data_share": 0.1}}
    return {**keys, **changes}


def graded_with(w, training_changes: dict, *, fid=148.2, kid=0.0121, kid_std=0.0034) -> Submission:
    sub = submission_create(user=w.owner, course_exercise=w.train_ce, filename="solution.py", data=SOLUTION)
    result = training_result(fid, kid=kid, kid_std=kid_std)
    result["training"].update(training_changes)
    finish(sub, result)
    return sub


def page_of(client, user, sub) -> str:
    client.force_login(user)
    response = client.get(reverse("submission-detail", args=[sub.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_explains_the_new_scores(client, board_world):
    w = board_world
    sub = graded_with(w, new_keys())
    page = page_of(client, w.owner, sub)
    assert "<strong>148.2 (95 % interval 141.0–156.3)</strong>" in page
    assert "200 bootstrap resamples" in page and "the public part of the reference images" in page
    assert '<dd id="kid">0.012 ± 0.003 ' in page
    assert ("Your samples look real (precision 0.81) but cover only 34 % of the data (recall): typical of mode "
            "collapse") in page
    assert "Coverage is only" not in page  # recall is low: nothing to inflate
    for sentence in ("Precision 0.81: 81 % of your samples lie close to some real image",
                     "Recall 0.34: 34 % of the real images have one of your samples close by",
                     "Density 1.02: how many real images each sample lies close to",
                     "Coverage 0.41: 41 % of the real images have one of your samples within"):
        assert sentence in page
    assert "k = 5 nearest neighbours" in page
    assert "Memorisation check passed: 0.0%" in page  # its display as it was

    svg = page.split('<svg class="class-shares"')[1].split("</svg>")[0]
    assert "style=" not in svg and "<script" not in svg and "http" not in svg
    assert "against the data&#x27;s 10 %</title>" in svg and 'aria-label="Share of your samples' in svg
    assert len(re.findall(r'<rect [^>]*class="bar', svg)) == 10  # one bar per class
    assert svg.count('class="data-line"') == 1 and ">data 10 %</text>" in svg
    assert len(re.findall(r'class="bar over"', svg)) == 1 and len(re.findall(r'class="bar under"', svg)) == 3
    assert "T-shirt/top: 31 %" in svg and ">Ankle boot</text>" in svg
    # the text alternative: every class with both shares
    table = page.split('<details class="numbers">')[1].split("</details>")[0]
    assert table.count('<th scope="row">') == 10 and "<th scope=\"row\">Trouser</th><td>2 %</td><td>10 %</td>" in table
    assert "Made more often than in the data: T-shirt/top (31 % of your samples), against 10 % each" in page
    assert "Hardly ever made (at most 3 % of your samples): Trouser." in page


def test_the_instructor_sees_it_too_and_the_api_passes_the_keys_through(client, board_world):
    w = board_world
    sub = graded_with(w, new_keys())
    assert 'id="fidelity-verdict"' in page_of(client, w.instructor, sub)
    for name in ("owner", "instructor"):
        body = client.get(f"/api/submissions/{sub.pk}/", headers={"Authorization": f"Token {w.tokens[name]}"}).json()
        training = body["result"]["training"]
        for key, value in new_keys().items():
            assert training[key] == value
        assert training["kid_std"] == 0.0034 and training["memorisation"]["allowed_share"] == 0.05


def test_an_older_result_without_the_new_keys_still_renders(client, board_world):
    w = board_world
    sub = graded_with(w, {}, fid=20.0, kid=0.0123, kid_std=0.0021)
    page = page_of(client, w.owner, sub)
    assert "<strong>20.00</strong>" in page and "0.0123 ± 0.0021" in page and "interval" not in page
    assert 'id="sample-quality"' not in page and "class-shares" not in page and "bootstrap" not in page
    assert '<svg class="loss-curve"' in page  # the rest as before


def test_partial_or_broken_new_keys_show_what_is_valid(client, board_world):
    w = board_world
    sub = graded_with(w, {"fid_interval": ["a", None], "fidelity": {"precision": 0.7},
                          "class_shares": {"labels": LABELS[:3], "shares": [0.5, 0.5]}}, kid_std=None)
    page = page_of(client, w.owner, sub)
    assert "<strong>148.2</strong>" in page and "interval" not in page and '<dd id="kid">0.0121 ' in page
    assert "Precision 0.70: 70 % of your samples" in page and "Recall" not in page
    assert 'id="fidelity-verdict"' not in page and "class-shares" not in page


def test_text_from_the_result_is_escaped(client, board_world):
    w = board_world
    labels = ["<script>alert(1)</script>", *LABELS[1:]]
    sub = graded_with(w, new_keys(reference_part="<b>public</b>",
                                  class_shares={"labels": labels, "shares": SHARES, "data_share": 0.1}))
    page = page_of(client, w.owner, sub)
    assert "<script>alert" not in page and "<b>public" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;public&lt;/b&gt;" in page


@pytest.mark.parametrize(("precision", "recall", "kind", "start"), [
    (0.81, 0.34, "mode_collapse", "Your samples look real (precision 0.81) but cover only 34 % of the data (recall): "
                                  "typical of mode collapse"),
    (0.31, 0.62, "spread", "Your samples spread over 62 % of the data (recall) but few look real (precision 0.31): "
                           "typical of blurry or noisy samples"),
    (0.75, 0.70, "good", "Your samples look real (precision 0.75) and cover 70 % of the data (recall): a good"),
    (0.21, 0.15, "poor", "Few of your samples look real (precision 0.21) and they cover only 15 % of the data"),
    (0.60, 0.50, "good", "Your samples look real (precision 0.60) and cover 50 %"),  # the thresholds count as high
    (0.59, 0.49, "poor", "Few of your samples look real (precision 0.59)"),
])
def test_the_verdict_of_precision_and_recall(precision, recall, kind, start):
    v = verdict(precision, recall)
    assert v["kind"] == kind and v["text"].startswith(start)


def test_density_and_coverage_add_to_the_verdict():
    assert "outlying samples may be inflating recall" in verdict(0.3, 0.7, coverage=0.35)["text"]
    assert "outlying" not in verdict(0.3, 0.7, coverage=0.8)["text"]
    assert "outlying" not in verdict(0.8, 0.2, coverage=0.2)["text"]  # a low recall: nothing inflated
    assert "Density 1.72: your samples crowd" in verdict(0.9, 0.2, density=1.72)["text"]
    assert "Density" not in verdict(0.9, 0.2, density=1.1)["text"]
    assert verdict(None, 0.5) is None and verdict(0.5, float("nan")) is None and verdict(True, 0.5) is None


def test_numbers_are_formatted_for_people():
    assert fid_text(148.2, [141.04, 156.31]) == "148.2 (95 % interval 141.0–156.3)"
    assert fid_text(20.0, (19.1, 21.347)) == "20.00 (95 % interval 19.10–21.35)"
    assert fid_text(5.4321) == "5.43" and fid_text(1234.4) == "1234" and fid_text(0) == "0.00"
    assert fid_text(148.2, [156.3, 141.0]) == "148.2" and fid_text(None) is None and fid_text("1") is None
    assert kid_text(0.0121, 0.0034) == "0.012 ± 0.003"
    assert kid_text(0.0123, 0.0021) == "0.0123 ± 0.0021"  # a spread starting with 1 or 2 keeps two digits
    assert kid_text(-0.0004, 0.0012) == "-0.0004 ± 0.0012" and kid_text(0.05, 0.0) == "0.0500"
    assert kid_text(0.05) == "0.0500" and kid_text(float("inf"), 0.1) is None
    assert (pct(0.34), pct(0.004), pct(0.0), pct(1.0)) == ("34 %", "0.4 %", "0 %", "100 %")


def test_each_metric_in_one_sentence():
    rows = metric_sentences({"k": 5, "precision": 0.812, "recall": 0.3449, "density": 1.02, "coverage": 0.41})
    assert [r["name"] for r in rows] == ["Precision", "Recall", "Density", "Coverage"]
    assert rows[0]["sentence"] == ("Precision 0.81: 81 % of your samples lie close to some real image: "
                                   "that many look real.")
    assert rows[1]["sentence"].startswith("Recall 0.34: 34 % of the real images")
    assert all(r["sentence"].count(".") == 2 for r in rows)  # the number's decimal point and one full stop
    assert metric_sentences({"density": "1", "coverage": None}) == []


def test_the_summary_of_an_empty_or_odd_block():
    empty = training_summary(None)
    assert empty["fid"] is None and empty["metrics"] == [] and empty["verdict"] is None
    assert empty["classes"] == [] and empty["class_svg"] is None and empty["class_remarks"] == []
    odd = training_summary({"fidelity": [1, 2], "class_shares": {"labels": LABELS, "shares": [2.0] * 10},
                            "fid_bootstrap": True})
    assert odd["metrics"] == [] and odd["classes"] == [] and odd["fid_bootstrap"] is None
