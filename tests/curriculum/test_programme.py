"""Walks the whole real programme, Peer Support Foundations, as a release (issue 3).

The repository's own curriculum is compiled once for this file; every check lists every
problem it finds, naming the module, lesson, assessment or file, so one failing run says
exactly what to fix in the content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest
import yaml

from app.compiler import BuildResult, CompiledLesson, CompiledModule, Release, compile_curriculum
from app.scoring.definitions import (
    FreeTextItem,
    QuestionAssessment,
    RolePlayAssessment,
    SituationalJudgementItem,
)

ROOT = Path(__file__).resolve().parents[2]
PROGRAMME = "peer-support-foundations"
MANIFEST_PATH = ROOT / "curriculum" / f"{PROGRAMME}.yaml"
MANIFEST = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
MODULE_IDS: list[str] = list(MANIFEST["modules"])

MIN_MODULES = 12
LESSONS_PER_MODULE = range(2, 6)
MIN_HOURS = 40
KEY_COMPETENCIES = ("active-listening", "ethical-boundaries")
MIN_SJT_ITEMS = 12

RISK_WORDS = re.compile(
    r"\w*suicid\w*|self[-\s]?harm|kill(?:ing)?\s+(?:themselves|themself|yourself|myself|himself|herself)",
    re.IGNORECASE,
)

# --- phone numbers ---------------------------------------------------------------------------
# Crisis contacts come from the deployment's configuration (@[crisis-resources]()), never from
# content. Emergency short codes are refused everywhere, whatever surrounds them; other digit
# runs are refused unless they are plainly something else: a year, a citation's volume, issue,
# pages, DOI or PubMed id, or a count of words, minutes and the like.
EMERGENCY_CODES = re.compile(
    r"(?<![\w.])(?:988|911|112|999|000|111|116\s?\d{3}|13\s?11\s?14|741\s?741)(?![\w])"
)
LONG_NUMBER = re.compile(r"\+?\d[\d\s()./-]{6,}\d")
SHORT_NUMBER = re.compile(r"(?<![\w.])\d{3,}(?![\w])")
TEL_LINK = re.compile(r"\btel:", re.IGNORECASE)
NOT_A_PHONE_NUMBER = [
    re.compile(r"^\s*minutes:\s*\d+\s*$", re.MULTILINE),  # front matter
    re.compile(r"\bdoi:\s*\S+", re.IGNORECASE),
    re.compile(r"\bPubMed(?: ID)?:?\s*\d+", re.IGNORECASE),
    re.compile(r"\b\d+\(\d+\)(?::\d+(?:[-–]\d+)?)?"),  # volume(issue):pages
    re.compile(r"(?<![\w.])\d+:\d+[-–]\d+\b"),  # volume:pages
    re.compile(r"(?<![\w.])(?:1[89]|20)\d\d(?![\w])"),  # a year
    re.compile(
        r"(?<![\w.])\d+\s*(?:%|per ?cent|words?|minutes?|mins?|hours?|days?|weeks?|months?|years?"
        r"|people|percent)\b",
        re.IGNORECASE,
    ),
]


# --- the release -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def result() -> BuildResult:
    return compile_curriculum(ROOT, programme=PROGRAMME)


@pytest.fixture(scope="module")
def release(result: BuildResult) -> Release:
    assert result.release is not None, "the programme does not compile:\n" + _lines(
        str(d) for d in result.diagnostics
    )
    return result.release


def _lines(problems: Iterable[str]) -> str:
    return "\n".join(f"  - {p}" for p in problems)


def _check(problems: list[str], what: str) -> None:
    assert not problems, f"{what}:\n{_lines(problems)}"


def _lesson_html(lesson: CompiledLesson) -> str:
    """Every piece of HTML a learner may read in a lesson, in any language."""
    segments = list(lesson.segments)
    for translation in lesson.translations.values():
        segments.extend(translation.segments)
    return "\n".join(s.html for s in segments)


def _where(module: CompiledModule, lesson: CompiledLesson) -> str:
    return f"modules/{module.id}, lesson {lesson.id!r}"


def _assessment_competencies(assessment: QuestionAssessment | RolePlayAssessment) -> set[str]:
    """Every competency an assessment evidences: its own list, items' and rubric items'."""
    found = set(assessment.competencies)
    if isinstance(assessment, RolePlayAssessment):
        found.update(r.competency for r in assessment.rubric)
    else:
        found.update(i.competency for i in assessment.items if i.competency)
    return found


def _item_competency(assessment: QuestionAssessment, item: object) -> str:
    return getattr(item, "competency", None) or assessment.competencies[0]


# --- the whole programme -------------------------------------------------------------------


def test_check_strict_finds_nothing(result: BuildResult) -> None:
    """The equivalent of `peerpath check --strict .`: no errors and no warnings."""
    _check([str(d) for d in result.diagnostics], "peerpath check --strict reports")
    assert result.ok(strict=True) and result.release is not None


def test_the_programme_has_enough_modules_in_manifest_order(release: Release) -> None:
    ids = [m.id for m in release.modules]
    assert release.programme.id == PROGRAMME
    assert len(ids) >= MIN_MODULES, f"only {len(ids)} modules: {ids}"
    assert ids == MODULE_IDS, f"release modules {ids} differ from the manifest's {MODULE_IDS}"
    folders = sorted(p.name for p in (ROOT / "modules").iterdir() if p.is_dir())
    _check(
        [f"modules/{f} is not listed in the manifest" for f in folders if f not in ids]
        + [
            f"{m} is listed in the manifest but modules/{m} does not exist"
            for m in ids
            if m not in folders
        ],
        "module folders and the manifest disagree",
    )


def test_every_module_is_reachable_through_its_prerequisites(release: Release) -> None:
    modules = {m.id: m for m in release.modules}
    problems = [
        f"module {m.id!r} needs {p!r}, which is not in the programme"
        for m in release.modules
        for p in m.prerequisites
        if p not in modules
    ]
    problems += [
        f"module {m.id!r} lists itself as a prerequisite"
        for m in release.modules
        if m.id in m.prerequisites
    ]
    roots = [m.id for m in release.modules if not m.prerequisites]
    assert roots, "no module is open from the start: every module has prerequisites"

    # Kahn's algorithm: a module is unlocked once all its prerequisites are unlocked.
    unlocked: list[str] = []
    waiting = {m.id: set(m.prerequisites) for m in release.modules}
    ready = list(roots)
    while ready:
        current = ready.pop(0)
        unlocked.append(current)
        for module_id, needs in waiting.items():
            if current in needs:
                needs.discard(current)
                if not needs and module_id not in unlocked and module_id not in ready:
                    ready.append(module_id)
    locked = [m for m in modules if m not in unlocked]
    problems += [
        f"module {m!r} can never be unlocked (a prerequisite cycle or a missing module): "
        f"still waiting for {sorted(waiting[m])}"
        for m in locked
    ]
    _check(problems, "the prerequisite graph does not reach every module")


def test_prerequisites_come_before_the_module_in_the_manifest(release: Release) -> None:
    order = {m.id: i for i, m in enumerate(release.modules)}
    _check(
        [
            f"module {m.id!r} is listed before its prerequisite {p!r}"
            for m in release.modules
            for p in m.prerequisites
            if p in order and order[p] >= order[m.id]
        ],
        "a learner following the manifest's order would meet a locked module",
    )


@pytest.mark.parametrize("module_id", MODULE_IDS)
def test_module_structure(release: Release, module_id: str) -> None:
    """2–5 lessons, objectives, a reflection, a try-this practice and its own knowledge check."""
    module = release.module(module_id)
    where = f"modules/{module_id}"
    problems = []
    if len(module.lessons) not in LESSONS_PER_MODULE:
        problems.append(f"{where} has {len(module.lessons)} lessons; it needs 2 to 5")
    if not [o for o in module.objectives if o.strip()]:
        problems.append(f"{where} has no learning objectives")
    if not module.competencies:
        problems.append(f"{where} evidences no competency")
    if not any(s.kind == "reflection" for lesson in module.lessons for s in lesson.segments):
        problems.append(f"{where} has no reflection prompt (::: reflection <id>)")
    if not any('class="callout try-this"' in _lesson_html(lesson) for lesson in module.lessons):
        problems.append(f"{where} has no try-this practice (::: try-this)")
    check = f"{module_id}-check"
    if check not in release.assessments:
        problems.append(f"{where} has no knowledge check: assessments/{check}.yaml is missing")
    else:
        if release.assessments[check].kind != "knowledge-check":
            problems.append(f"assessments/{check}.yaml is not a knowledge-check")
        if release.assessments[check].module != module_id:
            problems.append(
                f"assessments/{check}.yaml belongs to {release.assessments[check].module!r}"
            )
    if not any(check in lesson.assessment_ids for lesson in module.lessons):
        problems.append(f"no lesson of {where} embeds @[assessment]({check})")
    for lesson in module.lessons:
        if not lesson.title.strip() or not _lesson_html(lesson).strip():
            problems.append(f"{_where(module, lesson)} has no title or no text")
    _check(problems, f"module {module_id!r} is incomplete")


def test_every_assessment_is_embedded_and_belongs_to_a_module(release: Release) -> None:
    embedded = {
        ref for m in release.modules for lesson in m.lessons for ref in lesson.assessment_ids
    }
    module_ids = {m.id for m in release.modules}
    problems = [
        f"assessments/{a}.yaml is not embedded in any lesson"
        for a in release.assessments
        if a not in embedded
    ]
    problems += [
        f"assessments/{a.id}.yaml names module {a.module!r}, which is not in the programme"
        for a in release.assessments.values()
        if a.module not in module_ids
    ]
    _check(problems, "assessments a learner cannot reach")


# --- competencies ----------------------------------------------------------------------------


def test_every_competency_is_evidenced_by_a_module_and_an_assessment(release: Release) -> None:
    competencies = [c.id for c in release.programme.competencies]
    by_modules = {c for m in release.modules for c in m.competencies}
    by_assessments = {c for a in release.assessments.values() for c in _assessment_competencies(a)}
    problems = [
        f"competency {c!r} is not evidenced by any module"
        for c in competencies
        if c not in by_modules
    ]
    problems += [
        f"competency {c!r} is not evidenced by any assessment"
        for c in competencies
        if c not in by_assessments
    ]
    known = set(competencies)
    problems += [
        f"modules/{m.id} names unknown competency {c!r}"
        for m in release.modules
        for c in m.competencies
        if c not in known
    ]
    problems += [
        f"assessments/{a.id}.yaml names unknown competency {c!r}"
        for a in release.assessments.values()
        for c in sorted(_assessment_competencies(a))
        if c not in known
    ]
    _check(problems, "the competency framework and the evidence disagree")


def test_the_framework_has_the_key_competencies_as_core(release: Release) -> None:
    competencies = {c.id: c for c in release.programme.competencies}
    assert 6 <= len(competencies) <= 10, (
        f"{len(competencies)} competencies; the framework needs 6-10"
    )
    _check(
        [
            f"competency {c!r} is missing or not core"
            for c in KEY_COMPETENCIES
            if not (c in competencies and competencies[c].core)
        ],
        "key competencies",
    )


# --- situational judgement, free text and role-play --------------------------------------------


def test_every_scenario_has_one_best_response_and_a_rationale_for_each(release: Release) -> None:
    problems = []
    scenarios = 0
    for assessment in release.assessments.values():
        if not isinstance(assessment, QuestionAssessment):
            continue
        for item in assessment.items:
            if not isinstance(item, SituationalJudgementItem):
                continue
            scenarios += 1
            where = f"assessments/{assessment.id}.yaml, item {item.id!r}"
            best = [o.id for o in item.options if o.rating == 4]
            if len(best) != 1:
                problems.append(
                    f"{where} has {len(best)} options rated 4 ({best}); it needs exactly one"
                )
            if len(item.options) != 4:
                problems.append(f"{where} has {len(item.options)} options; it needs four")
            problems += [
                f"{where}, option {o.id!r} has no rationale"
                for o in item.options
                if not o.rationale.strip()
            ]
            if not item.scenario.strip():
                problems.append(f"{where} has no scenario")
    assert scenarios > 0, "the programme has no situational-judgement items at all"
    _check(problems, "situational-judgement items without a clear expert key")


@pytest.mark.parametrize("competency", KEY_COMPETENCIES)
def test_key_competency_has_a_scenario_bank(release: Release, competency: str) -> None:
    items = [
        f"{a.id}/{i.id}"
        for a in release.assessments.values()
        if isinstance(a, QuestionAssessment) and a.kind == "situational-judgement"
        for i in a.items
        if isinstance(i, SituationalJudgementItem) and _item_competency(a, i) == competency
    ]
    assert len(items) >= MIN_SJT_ITEMS, (
        f"competency {competency!r} has {len(items)} situational-judgement items; it needs "
        f"at least {MIN_SJT_ITEMS}: {items}"
    )


@pytest.mark.parametrize("competency", KEY_COMPETENCIES)
def test_key_competency_has_a_free_text_bank(release: Release, competency: str) -> None:
    banks = [
        a
        for a in release.assessments.values()
        if isinstance(a, QuestionAssessment)
        and a.kind == "free-text"
        and competency in _assessment_competencies(a)
    ]
    assert banks, f"competency {competency!r} has no free-text (say-it-back) bank"
    problems = []
    for bank in banks:
        for item in bank.items:
            where = f"assessments/{bank.id}.yaml, item {item.id!r}"
            if not isinstance(item, FreeTextItem):
                problems.append(f"{where} is a {item.type} item in a free-text bank")
                continue
            if not item.statement.strip() or not item.prompt.strip():
                problems.append(f"{where} has no statement or no prompt")
            if not (item.model_answer or "").strip():
                problems.append(f"{where} has no model answer")
            if not item.look_for:
                problems.append(f"{where} names no listening skill to look for")
    _check(problems, f"free-text banks for {competency!r}")


@pytest.mark.parametrize("competency", KEY_COMPETENCIES)
def test_key_competency_has_an_observed_role_play(release: Release, competency: str) -> None:
    known = {c.id for c in release.programme.competencies}
    role_plays = [
        a
        for a in release.assessments.values()
        if isinstance(a, RolePlayAssessment) and competency in _assessment_competencies(a)
    ]
    assert role_plays, f"competency {competency!r} has no observed role-play"
    assert any(r.competency == competency for a in role_plays for r in a.rubric), (
        f"no role-play rubric item rates {competency!r} (role-plays: {[a.id for a in role_plays]})"
    )
    problems = []
    for play in role_plays:
        where = f"assessments/{play.id}.yaml"
        if not play.script.persona.strip() or not play.script.opening.strip():
            problems.append(f"{where} has no standardized-client persona or opening")
        for item in play.rubric:
            if item.competency not in known:
                problems.append(
                    f"{where}, rubric item {item.id!r} maps to unknown competency {item.competency!r}"
                )
            missing = [level for level in (1, 2, 3, 4) if not item.levels.get(level, "").strip()]
            if missing:
                problems.append(
                    f"{where}, rubric item {item.id!r} does not describe level(s) {missing}"
                )
    _check(problems, f"role-plays for {competency!r}")


# --- safety ----------------------------------------------------------------------------------


@pytest.mark.parametrize("module_id", MODULE_IDS)
def test_lessons_about_suicide_or_self_harm_carry_a_content_warning(
    release: Release, module_id: str
) -> None:
    module = release.module(module_id)
    module_warning = (module.content_warning or "").strip()
    problems = []
    for lesson in module.lessons:
        match = RISK_WORDS.search(_lesson_html(lesson))
        if match and not (lesson.content_warning or "").strip() and not module_warning:
            problems.append(
                f"{_where(module, lesson)} mentions {match[0]!r} but has no content warning (its own or its module's)"
            )
    match = RISK_WORDS.search(module.overview_html)
    if match and not module_warning:
        problems.append(
            f"modules/{module_id} overview mentions {match[0]!r} but the module has no content warning"
        )
    _check(problems, "lessons that talk about suicide or self-harm without a content warning")


def _scannable_text(path: Path) -> str | None:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    if path.suffix == ".svg":  # only the words an image shows, not its coordinates
        return "\n".join(re.findall(r">([^<]+)<", path.read_text(encoding="utf-8")))
    return None


def _phone_numbers(text: str) -> list[tuple[int, str]]:
    found = [(m.start(), m[0]) for m in EMERGENCY_CODES.finditer(text)]
    found += [(m.start(), m[0]) for m in TEL_LINK.finditer(text)]
    cleaned = text
    for pattern in NOT_A_PHONE_NUMBER:
        cleaned = pattern.sub(lambda m: " " * len(m[0]), cleaned)
    found += [(m.start(), m[0].strip()) for m in LONG_NUMBER.finditer(cleaned)]
    found += [(m.start(), m[0]) for m in SHORT_NUMBER.finditer(cleaned)]
    return sorted(set(found))


def test_no_phone_numbers_in_modules() -> None:
    problems = []
    files = sorted(p for p in (ROOT / "modules").rglob("*") if p.is_file())
    assert files, "modules/ is empty"
    for path in files:
        text = _scannable_text(path)
        if text is None:
            continue
        for offset, number in _phone_numbers(text):
            line = text.count("\n", 0, offset) + 1
            problems.append(
                f"{path.relative_to(ROOT)}:{line}: {number!r} looks like a phone number"
            )
    _check(
        problems,
        "content must not hard-code crisis or phone numbers; use @[crisis-resources]() instead",
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("In the US, call 988 any time.", True),
        ("Ring 999 or 112 in an emergency.", True),
        ("Dial 911.", True),
        ("Call +44 20 7946 0958 today.", True),
        ("The helpline is 0800-123-4567.", True),
        ("Text 741741.", True),
        ("Call 13 11 14.", True),
        ("Call the line on 0300.", True),
        ('<a href="tel:5550100">call us</a>', True),
        ("The CRPD (2006) and Stanley and Brown (2012), 19(2):256-264.", False),
        ("Easter et al., PubMed 32013647; doi:10.1080/09638237.2021.1952946.", False),
        ("Write no more than 250 words.", False),
        ("---\nid: x\nminutes: 210\n---", False),
        ("Behaviour Research and Therapy 69:11-21.", False),
    ],
)
def test_the_phone_number_detector(text: str, found: bool) -> None:
    """The detector above must catch real numbers and leave citations alone."""
    assert bool(_phone_numbers(text)) is found, _phone_numbers(text)


# --- hours and certification -------------------------------------------------------------------


def test_total_hours_meet_the_programme_and_the_certification_minimum(release: Release) -> None:
    minutes = {m.id: m.minutes for m in release.modules}
    hours = sum(minutes.values()) / 60
    rules = release.programme.certification
    summary = ", ".join(f"{m} {n} min" for m, n in minutes.items())
    assert hours >= MIN_HOURS, (
        f"{hours:.1f} hours in total; the programme needs {MIN_HOURS}: {summary}"
    )
    assert hours >= rules.min_hours, (
        f"{hours:.1f} hours in total, less than certification.min_hours {rules.min_hours}: {summary}"
    )
    lesson_less = [
        f"modules/{m.id}"
        for m in release.modules
        if any(lesson.minutes < 1 for lesson in m.lessons)
    ]
    _check(lesson_less, "modules with a lesson of no learning time")


def test_certification_rules_are_written_in_the_manifest(release: Release) -> None:
    written = MANIFEST.get("certification")
    assert isinstance(written, dict), f"{MANIFEST_PATH.name} has no certification rules"
    problems = [
        f"certification.{key} is not written in {MANIFEST_PATH.name}"
        for key in ("min_hours", "validity_months", "renewal", "core_competency_min_level")
        if key not in written
    ]
    renewal = written.get("renewal") or {}
    if not isinstance(renewal, dict) or not any(float(v or 0) > 0 for v in renewal.values()):
        problems.append("certification.renewal asks for nothing (no hours of continuing education)")
    rules = release.programme.certification
    if not rules.validity_months or rules.validity_months < 1:
        problems.append("certification.validity_months must be a positive number of months")
    if not rules.require_all_modules:
        problems.append("certification.require_all_modules must be true")
    if not rules.knowledge_checks_passed:
        problems.append("certification.knowledge_checks_passed must be true")
    if not rules.no_unresolved_harmful_rating:
        problems.append("certification.no_unresolved_harmful_rating must be true")
    if rules.core_competency_min_level not in ("competent", "proficient"):
        problems.append(
            f"certification.core_competency_min_level is {rules.core_competency_min_level!r}; it must be at least competent"
        )
    if rules.min_hours < MIN_HOURS:
        problems.append(
            f"certification.min_hours is {rules.min_hours}; it must be at least {MIN_HOURS}"
        )
    if not rules.statement.strip():
        problems.append(
            "certification.statement (what the certificate does and does not mean) is empty"
        )
    _check(problems, "certification rules")
