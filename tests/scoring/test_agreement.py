"""Inter-rater agreement checked against published worked examples."""

from __future__ import annotations

from typing import Any

import pytest

from app.scoring import AgreementError, icc, kappa_from_table, rating_agreement, weighted_kappa

# Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
# reliability. Psychological Bulletin, 86(2), 420-428: the worked example of four judges rating
# six targets, with ICC(1,1) = .17, ICC(2,1) = .29 and ICC(3,1) = .71. Verified against R's
# psych package, whose own tests check ICC() on this matrix against these three values
# ("does it match the numbers from Shrout and Fleiss"): psych, tests/testthat/test_ICC.R,
# https://rdrr.io/cran/psych/src/tests/testthat/test_ICC.R . (The paper itself was not read;
# the values are the ones psych asserts.)
SHROUT_FLEISS_TABLE_2 = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]

# R package irr, data set `anxiety` (20 subjects rated by 3 raters on a 1-6 scale), columns in
# order. irr::kappa2(anxiety[, 2:3]) prints kappa -0.006289308 (unweighted), 0.1459075
# ("equal" weights, i.e. linear) and 0.2520325 ("squared", i.e. quadratic). Data and printed
# values as recorded from R in statsmodels' test suite, test_cohens_kappa_irr in
# statsmodels/stats/tests/test_inter_rater.py
# (https://github.com/statsmodels/statsmodels/blob/main/statsmodels/stats/tests/test_inter_rater.py).
# irr weights the levels that occur (1, 2, 3, 4, 6: raters 2 and 3 never gave a 5) equally spaced.
ANXIETY = [
    [3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3],
    [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4],
    [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2],
]
ANXIETY_LEVELS = (1, 2, 3, 4, 6)

# A 3 x 3 table with SAS PROC FREQ output (simple kappa 0.4842; weighted kappa 0.4701 with SAS's
# default Cicchetti-Allison weights), as quoted in the same statsmodels test module
# (UnweightedCohens and TestWeightedCohens, "comparison to printout of a SAS example"); the
# SAS example itself is not named there.
SAS_TABLE_10 = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]

# SAS/STAT User's Guide, "The FREQ Procedure", Getting Started, Agreement Study, "Skin Condition
# Data": two dermatologists rate 88 patients as terrible, poor, marginal or clear (rows:
# dermatologist 1). The table is as printed on
# https://support.sas.com/documentation/cdl/en/procstat/66703/HTML/default/procstat_freq_gettingstarted02.htm
# The kappas below (simple 0.3449, weighted 0.5082) are NOT verified: the output table of that
# page could not be read, so they are only what our implementation gives, cross-checked with
# scikit-learn in test_agreement_crosscheck.py.
SAS_SKIN_CONDITION = [
    [10, 4, 1, 0],
    [5, 10, 12, 2],
    [2, 4, 12, 5],
    [0, 2, 6, 13],
]


@pytest.mark.parametrize(("model", "published"), [("1,1", 0.17), ("2,1", 0.29), ("3,1", 0.71)])
def test_icc_matches_shrout_and_fleiss_1979(model: Any, published: float) -> None:
    assert round(icc(SHROUT_FLEISS_TABLE_2, model), 2) == published


def expand(table: list[list[int]]) -> tuple[list[int], list[int]]:
    a: list[int] = []
    b: list[int] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i + 1] * count
            b += [j + 1] * count
    return a, b


@pytest.mark.parametrize(
    ("weights", "published"),
    [("none", -0.006289308), ("linear", 0.1459075), ("quadratic", 0.2520325)],
)
def test_kappa_matches_r_irr_kappa2_on_the_anxiety_data(weights: Any, published: float) -> None:
    _, rater_2, rater_3 = ANXIETY
    value = weighted_kappa(rater_2, rater_3, categories=ANXIETY_LEVELS, weights=weights)
    assert value == pytest.approx(published, abs=5e-8)


@pytest.mark.parametrize(("weights", "published"), [("none", 0.4842), ("linear", 0.4701)])
def test_kappa_matches_a_sas_proc_freq_printout(weights: Any, published: float) -> None:
    assert round(kappa_from_table(SAS_TABLE_10, weights), 4) == published


@pytest.mark.parametrize(("weights", "expected"), [("none", 0.3449), ("linear", 0.5082)])
def test_kappa_on_the_sas_skin_condition_table(weights: Any, expected: float) -> None:
    """Regression values only: SAS's printed kappas for this table were not confirmed."""
    a, b = expand(SAS_SKIN_CONDITION)
    assert len(a) == 88
    assert round(weighted_kappa(a, b, weights=weights), 4) == expected
    assert round(kappa_from_table(SAS_SKIN_CONDITION, weights), 4) == expected


def test_quadratic_kappa_equals_its_product_moment_form() -> None:
    """Quadratic-weighted kappa = 2·cov(a, b) / (var a + var b + (mean a − mean b)²), with
    population moments (Cohen 1968; Fleiss & Cohen 1973). Checked on the SAS data."""
    a, b = expand(SAS_SKIN_CONDITION)
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    va = sum((x - ma) ** 2 for x in a) / n
    vb = sum((x - mb) ** 2 for x in b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True)) / n
    assert weighted_kappa(a, b) == pytest.approx(2 * cov / (va + vb + (ma - mb) ** 2))


@pytest.mark.parametrize("weights", ["quadratic", "linear", "none"])
def test_perfect_agreement_is_one(weights: Any) -> None:
    assert weighted_kappa([1, 2, 3, 4, 2], [1, 2, 3, 4, 2], weights=weights) == pytest.approx(1.0)


def test_kappa_is_symmetric_and_penalises_far_disagreement_more() -> None:
    a = [1, 2, 3, 4, 4, 3]
    near = [2, 2, 3, 4, 3, 3]
    far = [4, 2, 3, 4, 1, 3]
    assert weighted_kappa(a, near) == pytest.approx(weighted_kappa(near, a))
    assert weighted_kappa(a, near) > weighted_kappa(a, far)


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "message"),
    [
        ([1, 2], [1], {}, "different numbers"),
        ([], [], {}, "no ratings"),
        ([1, 5], [1, 2], {}, "rating 5 is not one of the categories"),
        ([3, 3, 3], [3, 3, 3], {}, "undefined"),
        ([1, 2], [1, 2], {"weights": "cubic"}, "unknown weights"),
        ([1, 2], [1, 2], {"categories": (1,)}, "at least two"),
    ],
)
def test_kappa_degenerate_input(a: list[int], b: list[int], kwargs: Any, message: str) -> None:
    with pytest.raises(AgreementError, match=message):
        weighted_kappa(a, b, **kwargs)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2]], "at least two rated targets"),
        ([[1], [2]], "at least two raters"),
        ([[1, 2], [3]], "every rater must rate every target"),
        ([[1, None], [3, 4]], "missing or non-numeric"),
        ([[3, 3], [3, 3]], "undefined"),
    ],
)
def test_icc_degenerate_input(matrix: Any, message: str) -> None:
    with pytest.raises(AgreementError, match=message):
        icc(matrix)


def test_two_raters_report_weighted_kappa_and_flag_every_1() -> None:
    report = rating_agreement(
        {
            "trainer-a": {
                "open-questions": 3,
                "reflections": 4,
                "confidentiality": 1,
                "summary": 2,
            },
            "trainer-b": {
                "open-questions": 3,
                "reflections": 3,
                "confidentiality": 2,
                "summary": 2,
            },
        }
    )
    assert report.statistic == "weighted-kappa"
    assert report.value == pytest.approx(weighted_kappa([3, 4, 1, 2], [3, 3, 2, 2]))
    by_item = {i.item_id: i for i in report.items}
    assert by_item["open-questions"].exact and by_item["reflections"].adjacent
    assert not by_item["reflections"].exact
    assert report.exact_agreement == 0.5 and report.adjacent_agreement == 1.0
    assert [(f.item_id, f.rater) for f in report.harmful_flags] == [
        ("confidentiality", "trainer-a")
    ]
    assert by_item["confidentiality"].harmful
    assert "rough" in report.note


def test_three_raters_report_icc() -> None:
    ratings = {
        f"r{j}": {f"item-{i}": SHROUT_FLEISS_TABLE_2[i][j] % 4 + 1 for i in range(6)}
        for j in range(3)
    }
    report = rating_agreement(ratings)
    assert report.statistic == "icc"
    matrix = [[ratings[r][f"item-{i}"] for r in ratings] for i in range(6)]
    assert report.value == pytest.approx(icc(matrix, "2,1"))


def test_identical_constant_ratings_give_no_statistic_but_still_a_report() -> None:
    report = rating_agreement({"a": {"x": 3, "y": 3}, "b": {"x": 3, "y": 3}})
    assert report.value is None
    assert report.exact_agreement == 1.0
    assert "undefined" in report.note


def test_items_not_rated_by_everyone_are_listed_but_still_flagged() -> None:
    report = rating_agreement({"a": {"x": 3, "y": 1}, "b": {"x": 2}})
    assert report.incomplete == ("y",)
    assert [i.item_id for i in report.items] == ["x"]
    assert [(f.item_id, f.rater) for f in report.harmful_flags] == [("y", "a")]


@pytest.mark.parametrize(
    "ratings",
    [{"a": {"x": 3}}, {"a": {"x": 5}, "b": {"x": 3}}, {"a": {"x": 0}, "b": {"x": 3}}],
)
def test_rating_agreement_rejects_bad_input(ratings: Any) -> None:
    with pytest.raises(AgreementError):
        rating_agreement(ratings)
