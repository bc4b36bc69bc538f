"""benchmarks/baselines.py rewrites docs/baselines.md but keeps the hand-written leaderboard section."""
from benchmarks.baselines import KEPT_FROM, kept_sections


def test_the_leaderboard_section_survives_a_rewrite_and_nothing_else_is_kept(tmp_path):
    doc = tmp_path / "baselines.md"
    assert kept_sections(doc) == ""  # no file yet
    doc.write_text(f"# Baselines\n\nold computed rows\n\n{KEPT_FROM}\n\n| flow-train | 3.914 |\n")
    kept = kept_sections(doc)
    assert kept.startswith(f"\n{KEPT_FROM}") and "| flow-train | 3.914 |" in kept and "old computed" not in kept
    doc.write_text("# Baselines\n\nonly computed rows\n")
    assert kept_sections(doc) == ""
