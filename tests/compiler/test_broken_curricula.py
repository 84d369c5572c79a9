"""Each kind of broken curriculum is reported at the exact line and column an author must edit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.compiler import check_curriculum
from tests.compiler.conftest import Curriculum

M = "curriculum/sample-programme.yaml"
WELCOME = "modules/welcome/module.md"
WELCOME_1 = "modules/welcome/01-what-peer-support-is.md"
LISTENING = "modules/listening-basics/module.md"
OPEN_QUESTIONS = "modules/listening-basics/01-open-questions.md"
PRACTICE = "modules/listening-basics/02-practice.md"
BOUNDARIES = "modules/boundaries-basics/module.md"
CONFIDENTIALITY = "modules/boundaries-basics/01-confidentiality.md"
CHECK = "assessments/listening-check.yaml"
ROLE_PLAY = "assessments/listening-role-play.yaml"

Edit = Callable[[Curriculum], None]


def _write_big_image(c: Curriculum) -> None:
    (c.root / "modules/listening-basics/images/talking.svg").write_bytes(
        b"<svg>" + b" " * 1_100_000 + b"</svg>"
    )


CASES: dict[str, tuple[Edit, list[str]]] = {
    "invalid YAML in the manifest": (
        lambda c: c.replace(M, "title: Sample Peer Support Programme", "title: [unclosed"),
        [f"{M}:3:8: error: invalid YAML: did not find expected ',' or ']'"],
    ),
    "invalid YAML in front matter": (
        lambda c: c.replace(PRACTICE, "title: Practice with a partner", "title: : :\n  - x"),
        [f"{PRACTICE}:3:8: error: invalid YAML: mapping values are not allowed in this context"],
    ),
    "front matter type error": (
        lambda c: c.replace(WELCOME, "minutes: 30", "minutes: thirty"),
        [
            f"{WELCOME}:4:10: error: minutes: input should be a valid integer, unable to parse string as an integer"
        ],
    ),
    "unknown front matter key": (
        lambda c: c.replace(PRACTICE, "title: Practice", "titel: Practice"),
        [
            f"{PRACTICE}:2:1: error: missing required key 'title'",
            f"{PRACTICE}:3:1: error: unknown key 'titel'",
        ],
    ),
    "missing required key": (
        lambda c: c.replace(BOUNDARIES, "minutes: 40\n", ""),
        [f"{BOUNDARIES}:2:1: error: missing required key 'minutes'"],
    ),
    "module id differs from its folder": (
        lambda c: c.replace(WELCOME, "id: welcome", "id: welcom"),
        [f"{WELCOME}:2:5: error: module id 'welcom' must equal its folder name 'welcome'"],
    ),
    "assessment id differs from its file": (
        lambda c: c.replace(CHECK, "id: listening-check", "id: listen-check"),
        [
            f"{CHECK}:1:5: error: assessment id 'listen-check' must equal the file name 'listening-check'",
            f"{OPEN_QUESTIONS}:27:1: error: unknown assessment 'listening-check'",
        ],
    ),
    "duplicate lesson id": (
        lambda c: c.replace(PRACTICE, "id: practice", "id: open-questions"),
        [f"{PRACTICE}:2:5: error: duplicate lesson id 'open-questions' (also in {OPEN_QUESTIONS})"],
    ),
    "duplicate glossary id": (
        lambda c: c.replace(M, "  - id: reflection\n", "  - id: peer-support\n"),
        [
            f"{M}:40:9: error: duplicate glossary term id 'peer-support'",
            f"{OPEN_QUESTIONS}:20:70: error: unknown glossary term 'reflection'",
        ],
    ),
    "duplicate reflection id in a module": (
        lambda c: c.replace(
            WELCOME_1,
            "::: reflection why-peer-support",
            "::: reflection why-peer-support\nFirst.\n:::\n\n::: reflection why-peer-support",
        ),
        [
            f"{WELCOME_1}:19:1: error: duplicate reflection id 'why-peer-support' in this module (first in {WELCOME_1}:15)"
        ],
    ),
    "unknown competency in a module": (
        lambda c: c.replace(
            LISTENING,
            "competencies: [active-listening]",
            "competencies: [active-listening, empathy]",
        ),
        [f"{LISTENING}:8:34: error: unknown competency 'empathy'"],
    ),
    "unknown competency in a rubric item": (
        lambda c: c.replace(
            ROLE_PLAY, "    competency: ethical-boundaries", "    competency: boundaries"
        ),
        [f"{ROLE_PLAY}:26:17: error: unknown competency 'boundaries'"],
    ),
    "missing prerequisite module": (
        lambda c: c.replace(
            BOUNDARIES,
            "prerequisites: [welcome, listening-basics]",
            "prerequisites: [welcome, listening-basic]",
        ),
        [f"{BOUNDARIES}:8:26: error: unknown prerequisite module 'listening-basic'"],
    ),
    "prerequisite cycle": (
        lambda c: c.replace(WELCOME, "prerequisites: []", "prerequisites: [boundaries-basics]"),
        [
            f"{WELCOME}:8:17: error: prerequisite cycle: welcome → boundaries-basics → listening-basics → welcome",
            f"{WELCOME}:8:17: error: prerequisite cycle: welcome → boundaries-basics → welcome",
        ],
    ),
    "module listed but missing": (
        lambda c: c.replace(
            M, "  - boundaries-basics\n", "  - boundaries-basics\n  - crisis-basics\n"
        ),
        [
            f"{M}:35:5: error: module 'crisis-basics' is listed but modules/crisis-basics/module.md does not exist"
        ],
    ),
    "module folder not listed": (
        lambda c: c.write("modules/extra/module.md", "---\nid: extra\n---\n"),
        [
            "modules/extra/module.md:1:1: warning: module folder 'extra' is not listed in any programme manifest; it is not built"
        ],
    ),
    "broken lesson link": (
        lambda c: c.replace(
            WELCOME_1,
            "module:listening-basics/open-questions",
            "module:listening-basics/closed-questions",
        ),
        [
            f"{WELCOME_1}:9:37: error: broken link: module 'listening-basics' has no lesson 'closed-questions'"
        ],
    ),
    "broken module link": (
        lambda c: c.replace(LISTENING, "module:boundaries-basics", "module:boundaries"),
        [f"{LISTENING}:13:68: error: broken link: there is no module 'boundaries'"],
    ),
    "missing alt text": (
        lambda c: c.replace(
            OPEN_QUESTIONS, "![A peer worker and a visitor talking at a table]", "![]"
        ),
        [f"{OPEN_QUESTIONS}:13:1: error: image has no alt text: describe it in ![…](…)"],
    ),
    "image file missing": (
        lambda c: c.replace(OPEN_QUESTIONS, "images/talking.svg", "images/walking.svg"),
        [f"{OPEN_QUESTIONS}:13:1: error: image not found: images/walking.svg"],
    ),
    "remote image": (
        lambda c: c.replace(OPEN_QUESTIONS, "images/talking.svg", "https://example.org/a.png"),
        [
            f"{OPEN_QUESTIONS}:13:1: error: image 'https://example.org/a.png' is not allowed: images must be files in the module's images/ folder"
        ],
    ),
    "image too big": (
        _write_big_image,
        [
            f"{OPEN_QUESTIONS}:13:1: error: image 'images/talking.svg' is 1074 KB; the limit is 1024 KB"
        ],
    ),
    "Markdown file too big": (
        lambda c: c.write(
            PRACTICE, "---\nid: practice\ntitle: Practice\n---\n" + "word " * 220_000
        ),
        [f"{PRACTICE}:1:1: error: file is 1074 KB; a Markdown file may be at most 1024 KB"],
    ),
    "unknown assessment reference": (
        lambda c: c.replace(
            PRACTICE, "@[assessment](listening-role-play)", "@[assessment](listening-roleplay)"
        ),
        [f"{PRACTICE}:9:1: error: unknown assessment 'listening-roleplay'"],
    ),
    "assessment module unknown": (
        lambda c: c.replace(CHECK, "module: listening-basics", "module: listening"),
        [f"{CHECK}:4:9: error: assessment module 'listening' is not a module of this programme"],
    ),
    "invalid assessment item": (
        lambda c: c.replace(
            CHECK,
            '      - { id: a, text: "Did you sleep well?" }',
            '      - { id: a, text: "Did you sleep well?", correct: true }',
        ),
        [
            f"{CHECK}:10:5: error: items[0]: a single-choice item needs exactly one correct option, not 2",
            f"{OPEN_QUESTIONS}:27:1: error: unknown assessment 'listening-check'",
        ],
    ),
    "unknown glossary term": (
        lambda c: c.replace(OPEN_QUESTIONS, "{term}`reflection`", "{term}`reflecting`"),
        [f"{OPEN_QUESTIONS}:20:70: error: unknown glossary term 'reflecting'"],
    ),
    "unknown callout type": (
        lambda c: c.replace(OPEN_QUESTIONS, "::: try-this", "::: tip"),
        [
            f"{OPEN_QUESTIONS}:15:1: error: unknown callout type 'tip': use note, warning, try-this or reflection"
        ],
    ),
    "reflection without an id": (
        lambda c: c.replace(CONFIDENTIALITY, "::: reflection promises", "::: reflection"),
        [f"{CONFIDENTIALITY}:9:1: error: reflection without an id: write '::: reflection <id>'"],
    ),
    "empty module": (
        lambda c: (c.root / CONFIDENTIALITY).unlink(),
        [
            f"{BOUNDARIES}:1:1: error: module 'boundaries-basics' has no lessons: add a lesson file such as 01-introduction.md"
        ],
    ),
    "empty lesson": (
        lambda c: c.write(PRACTICE, "---\nid: practice\ntitle: Practice\n---\n\n"),
        [f"{PRACTICE}:1:1: error: empty lesson: write its content below the front matter"],
    ),
    "translation in an undeclared language": (
        lambda c: c.write(
            "modules/boundaries-basics/01-confidentiality.fr.md",
            "---\nid: confidentiality\n---\n\nBonjour.\n",
        ),
        [
            "modules/boundaries-basics/01-confidentiality.fr.md:1:1: error: translation language 'fr' is not listed in the manifest's languages"
        ],
    ),
    "translation with a different id": (
        lambda c: c.replace(
            "modules/welcome/01-what-peer-support-is.hi.md",
            "id: what-peer-support-is",
            "id: peer-support",
        ),
        [
            "modules/welcome/01-what-peer-support-is.hi.md:2:5: error: a translation must keep the id of 01-what-peer-support-is.md: 'what-peer-support-is', not 'peer-support'"
        ],
    ),
    "missing certificate.html": (
        lambda c: (c.root / "certificates/sample-programme/certificate.html").unlink(),
        [f"{M}:9:23: error: certificates/sample-programme/certificate.html is missing"],
    ),
    "missing certificate folder": (
        lambda c: c.replace(
            M, "certificate_template: sample-programme", "certificate_template: fancy"
        ),
        [f"{M}:9:23: error: certificate template folder certificates/fancy/ does not exist"],
    ),
    "sanitiser removed something": (
        lambda c: c.replace(
            CONFIDENTIALITY,
            "Explain at the first",
            'Explain <span onclick="steal()">at</span> the first',
        ),
        [f"{CONFIDENTIALITY}:6:9: warning: the sanitiser removed onclick attribute on <span>"],
    ),
    "sanitiser removed a script block": (
        lambda c: c.replace(
            CONFIDENTIALITY,
            "::: reflection promises",
            "<div>\n<script>alert(1)</script>\n</div>\n\n::: reflection promises",
        ),
        [f"{CONFIDENTIALITY}:10:1: warning: the sanitiser removed <script> element"],
    ),
    "competency with no module evidencing it": (
        lambda c: c.replace(
            BOUNDARIES, "competencies: [ethical-boundaries]", "competencies: [active-listening]"
        ),
        [f"{M}:21:9: warning: no module evidences competency 'ethical-boundaries'"],
    ),
    "manifest levels missing": (
        lambda c: c.replace(
            M,
            '      3: "Competent: explains limits early and says no kindly, with a reason."\n',
            "",
        ),
        [
            f"{M}:26:7: error: competencies[1].levels: every level 1–4 needs a descriptor; missing: [3]"
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_broken_curriculum_is_reported_exactly(curriculum: Curriculum, case: str) -> None:
    edit, expected = CASES[case]
    edit(curriculum)
    found = [str(d) for d in check_curriculum(curriculum.root)]
    assert found == expected


def test_the_sample_curriculum_has_no_diagnostics(curriculum: Curriculum) -> None:
    assert check_curriculum(curriculum.root) == []


def test_an_svg_image_with_script_is_an_error(curriculum: Curriculum) -> None:
    curriculum.write(
        "modules/listening-basics/images/talking.svg",
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>\n',
    )
    assert [str(d) for d in check_curriculum(curriculum.root)] == [
        "modules/listening-basics/images/talking.svg:1:1: error: SVG image contains script, event handlers or foreign objects"
    ]
