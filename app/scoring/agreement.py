"""Agreement between trainers who rate the same role-play: weighted kappa, ICC, per-item agreement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

KappaWeights = Literal["quadratic", "linear", "none"]
IccModel = Literal["1,1", "2,1", "3,1"]


class AgreementError(ValueError):
    """Ratings from which an agreement statistic cannot be computed; the message says why."""


def weighted_kappa(
    ratings_a: Sequence[int],
    ratings_b: Sequence[int],
    categories: Sequence[int] = (1, 2, 3, 4),
    weights: KappaWeights = "quadratic",
) -> float:
    """Cohen's (1968) weighted kappa for two raters on an ordered scale.

    Agreement weights: quadratic (Fleiss–Cohen) 1 − (i − j)² / (k − 1)², linear
    (Cicchetti–Allison) 1 − |i − j| / (k − 1), or none (Cohen's 1960 unweighted kappa).
    """
    if len(ratings_a) != len(ratings_b):
        raise AgreementError(
            f"the two raters rated different numbers of cases ({len(ratings_a)} and {len(ratings_b)})"
        )
    if not ratings_a:
        raise AgreementError("no ratings to compare")
    if len(set(categories)) != len(categories) or len(categories) < 2:
        raise AgreementError("categories must be at least two distinct values")
    if weights not in ("quadratic", "linear", "none"):
        raise AgreementError(f"unknown weights {weights!r}: use quadratic, linear or none")
    index = {c: i for i, c in enumerate(categories)}
    k = len(categories)
    table = [[0] * k for _ in range(k)]
    for a, b in zip(ratings_a, ratings_b, strict=True):
        for rating in (a, b):
            if rating not in index:
                raise AgreementError(
                    f"rating {rating!r} is not one of the categories {list(categories)}"
                )
        table[index[a]][index[b]] += 1
    return kappa_from_table(table, weights)


def kappa_from_table(table: Sequence[Sequence[int]], weights: KappaWeights = "quadratic") -> float:
    """Weighted kappa from a k × k table of counts (rows: rater A, columns: rater B)."""
    k = len(table)
    if k < 2 or any(len(row) != k for row in table):
        raise AgreementError("an agreement table must be square, at least 2 × 2")
    n = sum(sum(row) for row in table)
    if n <= 0:
        raise AgreementError("no ratings to compare")

    def weight(i: int, j: int) -> float:
        if weights == "quadratic":
            return 1 - (i - j) ** 2 / (k - 1) ** 2
        if weights == "linear":
            return 1 - abs(i - j) / (k - 1)
        return 1.0 if i == j else 0.0

    rows = [sum(table[i]) / n for i in range(k)]
    cols = [sum(table[i][j] for i in range(k)) / n for j in range(k)]
    observed = sum(weight(i, j) * table[i][j] / n for i in range(k) for j in range(k))
    expected = sum(weight(i, j) * rows[i] * cols[j] for i in range(k) for j in range(k))
    if expected >= 1 - 1e-12:
        raise AgreementError(
            "kappa is undefined: both raters used a single category for every case, "
            "so agreement by chance is already complete"
        )
    return (observed - expected) / (1 - expected)


def icc(matrix: Sequence[Sequence[float]], model: IccModel = "2,1") -> float:
    """Intraclass correlation (Shrout & Fleiss 1979) for n targets (rows) × k raters (columns).

    "2,1": two-way random effects, absolute agreement, single rater (the default);
    "3,1": two-way mixed, consistency, single rater; "1,1": one-way random, single rater.
    """
    n = len(matrix)
    if n < 2:
        raise AgreementError("ICC needs at least two rated targets (rows)")
    k = len(matrix[0])
    if k < 2:
        raise AgreementError("ICC needs at least two raters (columns)")
    for r, row in enumerate(matrix):
        if len(row) != k:
            raise AgreementError(
                f"row {r + 1} has {len(row)} ratings, expected {k}: every rater must rate every target"
            )
        for value in row:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise AgreementError(f"row {r + 1} has a missing or non-numeric rating {value!r}")
    if model not in ("1,1", "2,1", "3,1"):
        raise AgreementError(f"unknown ICC model {model!r}: use 1,1, 2,1 or 3,1")
    grand = sum(sum(row) for row in matrix) / (n * k)
    row_means = [sum(row) / k for row in matrix]
    col_means = [sum(matrix[i][j] for i in range(n)) / n for j in range(k)]
    ss_total = sum((x - grand) ** 2 for row in matrix for x in row)
    ss_rows = k * sum((m - grand) ** 2 for m in row_means)
    ss_cols = n * sum((m - grand) ** 2 for m in col_means)
    bms = ss_rows / (n - 1)
    jms = ss_cols / (k - 1)
    ems = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    wms = (ss_total - ss_rows) / (n * (k - 1))
    if model == "1,1":
        denominator = bms + (k - 1) * wms
        numerator = bms - wms
    elif model == "2,1":
        denominator = bms + (k - 1) * ems + k * (jms - ems) / n
        numerator = bms - ems
    else:
        denominator = bms + (k - 1) * ems
        numerator = bms - ems
    if abs(denominator) < 1e-12:
        raise AgreementError(
            "ICC is undefined: every target received the same rating from every rater"
        )
    return numerator / denominator


@dataclass(frozen=True)
class ItemAgreement:
    """How the raters rated one rubric item."""

    item_id: str
    ratings: Mapping[str, int]
    exact: bool
    adjacent: bool
    spread: int
    harmful: bool


@dataclass(frozen=True)
class HarmfulFlag:
    """A rating of 1 (potentially harmful): it needs follow-up whoever gave it."""

    item_id: str
    rater: str


@dataclass(frozen=True)
class AgreementReport:
    """Agreement between the raters of one role-play."""

    raters: tuple[str, ...]
    items: tuple[ItemAgreement, ...]
    incomplete: tuple[str, ...]
    exact_agreement: float
    adjacent_agreement: float
    statistic: Literal["weighted-kappa", "icc"] | None
    value: float | None
    note: str
    harmful_flags: tuple[HarmfulFlag, ...]


def rating_agreement(ratings: Mapping[str, Mapping[str, int]]) -> AgreementReport:
    """Compare raters' ratings (rater → rubric item → 1–4) of one role-play.

    Per item: exact and within-one-level agreement. Overall: quadratic-weighted kappa for two
    raters, ICC(2,1) for three or more, over the items every rater rated. Any 1 is flagged.
    """
    raters = tuple(ratings)
    if len(raters) < 2:
        raise AgreementError("agreement needs ratings from at least two raters")
    for rater, by_item in ratings.items():
        for item_id, rating in by_item.items():
            if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 4:
                raise AgreementError(
                    f"rater {rater} gave item {item_id} the rating {rating!r}; ratings are 1-4"
                )
    all_items = list(dict.fromkeys(i for by_item in ratings.values() for i in by_item))
    common = [i for i in all_items if all(i in ratings[r] for r in raters)]
    incomplete = tuple(i for i in all_items if i not in common)
    items = []
    for item_id in common:
        given = {r: ratings[r][item_id] for r in raters}
        spread = max(given.values()) - min(given.values())
        items.append(
            ItemAgreement(
                item_id, given, spread == 0, spread <= 1, spread, min(given.values()) == 1
            )
        )
    flags = tuple(
        HarmfulFlag(item_id, rater)
        for item_id in all_items
        for rater in raters
        if ratings[rater].get(item_id) == 1
    )
    exact = sum(i.exact for i in items) / len(items) if items else 0.0
    adjacent = sum(i.adjacent for i in items) / len(items) if items else 0.0
    statistic: Literal["weighted-kappa", "icc"] = "weighted-kappa" if len(raters) == 2 else "icc"
    value: float | None = None
    try:
        if not items:
            raise AgreementError("no item was rated by every rater")
        if statistic == "weighted-kappa":
            a, b = raters
            value = weighted_kappa([i.ratings[a] for i in items], [i.ratings[b] for i in items])
            note = f"Quadratic-weighted kappa over {len(items)} items."
        else:
            value = icc([[i.ratings[r] for r in raters] for i in items], "2,1")
            note = f"ICC(2,1) over {len(items)} items and {len(raters)} raters."
        if len(items) < 10:
            note += " With so few items this figure is rough; look at the per-item agreement."
    except AgreementError as error:
        note = f"No overall {statistic.replace('-', ' ')}: {error}."
    if incomplete:
        note += f" Not rated by every rater: {', '.join(incomplete)}."
    return AgreementReport(
        raters, tuple(items), incomplete, exact, adjacent, statistic, value, note, flags
    )
