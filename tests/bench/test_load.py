"""bench/load.py's verdicts on hand-made measurements: the lesson page and progress need both
their capacity at saturation and their latency in the paced phase, with zero errors."""

from __future__ import annotations

from bench.harness import Measurement
from bench.load import (
    LESSON,
    PROGRESS,
    Paced,
    Row,
    lesson_rate,
    paced_met,
    paced_name,
    table,
    verdicts,
)

TARGET = "PeerPath SQLite (1 wkr)"


def measured(name: str, throughput: float, p99_ms: float = 20.0, errors: int = 0) -> Measurement:
    return Measurement(
        name=name,
        requests=int(throughput * 10),
        throughput=throughput,
        p50_ms=p99_ms / 4,
        p95_ms=p99_ms / 2,
        p99_ms=p99_ms,
        errors=errors,
    )


def bare(throughput: float, workers: int = 1) -> Row:
    return Row(f"bare FastAPI ({workers} wkr)", workers, measured("GET lesson", throughput), "bare")


def saturated(endpoint: str, throughput: float, p99_ms: float = 400.0) -> Row:
    return Row(TARGET, 1, measured(endpoint, throughput, p99_ms), "peerpath")


def paced(endpoint: str, offered: float, achieved: float, p99_ms: float, errors: int = 0) -> Row:
    m = measured(paced_name(endpoint, offered), achieved, p99_ms, errors)
    return Row(TARGET, 1, m, "peerpath", Paced(endpoint, offered))


def verdict(rows: list[Row], what: str) -> str:
    """The first word after the label on a target's summary line ("met" or "NOT met")."""
    line = next(line for line in verdicts(rows) if line.startswith(f"  {what}"))
    return line.removeprefix(f"  {what}").split("(")[0].strip()


def test_a_lesson_page_fast_enough_at_saturation_and_when_paced_meets_the_target() -> None:
    rows = [
        bare(1200),
        saturated(LESSON, 700, p99_ms=400),  # a saturated p99 is never the latency verdict
        paced(LESSON, 600, achieved=598, p99_ms=40),
    ]
    assert verdict(rows, "lesson page") == "met"
    assert verdict(rows, "errors").endswith("[zero: met]")


def test_the_lesson_page_needs_half_the_bare_apps_throughput_at_saturation() -> None:
    rows = [bare(1200), saturated(LESSON, 590), paced(LESSON, 600, achieved=600, p99_ms=40)]
    assert verdict(rows, "lesson page") == "NOT met"
    assert any("[>= 50%: NOT met]" in line for line in verdicts(rows))


def test_a_paced_phase_the_server_fell_behind_in_is_not_met_even_with_a_low_p99() -> None:
    # Coordinated omission: late requests' latency hides their wait; the rate shows it.
    behind = paced(PROGRESS, 1000, achieved=940, p99_ms=30)
    kept_up = paced(PROGRESS, 1000, achieved=960, p99_ms=30)
    assert not paced_met(behind)
    assert paced_met(kept_up)
    assert verdict([saturated(PROGRESS, 1500), behind], "progress") == "NOT met"
    assert verdict([saturated(PROGRESS, 1500), kept_up], "progress") == "met"


def test_progress_needs_a_p99_under_100_ms_when_paced_and_1000_per_second_at_saturation() -> None:
    slow_tail = [saturated(PROGRESS, 1500), paced(PROGRESS, 1000, achieved=1000, p99_ms=100)]
    too_few = [saturated(PROGRESS, 990), paced(PROGRESS, 1000, achieved=1000, p99_ms=30)]
    assert verdict(slow_tail, "progress") == "NOT met"
    assert verdict(too_few, "progress") == "NOT met"


def test_without_a_paced_phase_the_latency_target_is_not_met() -> None:
    rows = [bare(1200), saturated(LESSON, 900), saturated(PROGRESS, 1500)]
    assert verdict(rows, "lesson page") == "NOT met"
    assert verdict(rows, "progress") == "NOT met"
    assert any("not run (needs wrk)" in line for line in verdicts(rows))


def test_an_error_in_any_phase_fails_the_zero_errors_target() -> None:
    rows = [
        saturated(PROGRESS, 1500),
        paced(PROGRESS, 1000, achieved=1000, p99_ms=30, errors=2),
    ]
    assert verdict(rows, "errors").startswith("2 in all 2 phases")
    assert verdict(rows, "errors").endswith("[zero: NOT met]")


def test_the_lesson_rate_is_half_the_bare_app_with_as_many_workers_or_the_fallback() -> None:
    rows = [bare(1200, workers=1), bare(3000, workers=2)]
    assert lesson_rate(rows, 1, fallback=600) == 600
    assert lesson_rate(rows, 2, fallback=600) == 1500
    assert lesson_rate([], 2, fallback=700) == 700


def test_the_lesson_verdict_says_when_the_bare_app_was_not_measured() -> None:
    rows = [saturated(LESSON, 900), paced(LESSON, 600, achieved=600, p99_ms=40)]
    assert verdict(rows, "lesson page").startswith("not judged")
    assert any("(--lesson-rate)" in line for line in verdicts(rows))


def test_the_table_names_paced_rows_by_their_offered_rate_without_a_share_of_bare() -> None:
    lines = table([bare(1200), saturated(LESSON, 600), paced(LESSON, 600, 590, p99_ms=40)])
    saturation_line, paced_line = lines[2], lines[3]
    assert "GET lesson page, paced at 600/s" in paced_line
    assert saturation_line.endswith("50%")
    assert paced_line.endswith("0")  # the errors column ends it: no share of the bare app
