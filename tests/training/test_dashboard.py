"""The cohort dashboard: a grid that reads without colour, an SVG chart, who is stuck, a
per-trainee page with only shared reflections, and a CSV that says exactly what the page says."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import update

from app.store import Database
from app.store.base import utcnow
from app.store.learning import Enrolment
from app.training import safe_cell
from tests.journeys import complete, post_form
from tests.training.factories import Person, create_cohort, join, join_code, person

LESSON = "/learn/sample-programme/welcome/what-peer-support-is"


def cohort_with_trainees(app: FastAPI, db: Database) -> tuple[Person, int, list[Person]]:
    trainer = person(app, db, "trainer")
    cohort_id = create_cohort(trainer)
    code = join_code(db, cohort_id)
    names = ["Ama Mensah", '=HYPERLINK("http://evil")', "<script>alert(1)</script>"]
    trainees = []
    for name in names:
        trainee = person(app, db, "trainee", name=name)
        join(trainee, code)
        trainees.append(trainee)
    complete(trainees[0].client, "welcome", "what-peer-support-is")
    complete(trainees[0].client, "welcome", "how-this-course-works")
    complete(trainees[1].client, "welcome", "what-peer-support-is")
    return trainer, cohort_id, trainees


def grid_rows(page: str) -> dict[int, list[str]]:
    """Each trainee's row of the grid as the text of its cells (symbols removed)."""
    rows = {}
    for user_id, body in re.findall(r'<tr data-trainee="(\d+)"[^>]*>(.*?)</tr>', page, re.S):
        cells = re.findall(
            r'<td class="cell[^"]*" data-col="(?:module|competency)">(.*?)</td>', body
        )
        rows[int(user_id)] = [html.unescape(c).lstrip("✓◐○– ").strip() for c in cells]
    return rows


def test_the_grid_reads_without_colour_and_the_chart_is_server_rendered_svg(
    app: FastAPI, db: Database
) -> None:
    trainer, cohort_id, trainees = cohort_with_trainees(app, db)
    page = trainer.client.get(f"/train/cohorts/{cohort_id}")
    assert page.status_code == 200
    text = page.text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<svg" in text and 'role="img"' in text and "<script" not in text.split("<svg")[1]
    assert "Welcome" in text and "Key:" in text
    row = grid_rows(text)[trainees[0].id]
    assert row[0] == "2/2 done"  # welcome: both lessons
    assert row[1] == "0/2 not started"
    assert grid_rows(text)[trainees[1].id][0] == "1/2 started"
    assert "✓ 2/2 done" in text and "◐ 1/2 started" in text and "○ 0/2 not started" in text
    assert "Not yet assessed" in text
    # The chart says the counts too: one trainee done with the first module, one started.
    assert "1 done, 1 started, 1 not started" in text


def test_the_csv_says_exactly_what_the_dashboard_shows(app: FastAPI, db: Database) -> None:
    trainer, cohort_id, trainees = cohort_with_trainees(app, db)
    page = trainer.client.get(f"/train/cohorts/{cohort_id}").text
    export = trainer.client.get(f"/train/cohorts/{cohort_id}/export.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert len(body) == len(trainees)
    module_columns = [i for i, h in enumerate(header) if h.startswith(("Module: ", "Competency: "))]
    grid = grid_rows(page)
    by_email = {t.email: t.id for t in trainees}
    for values in body:
        user_id = by_email[values[header.index("Email")]]
        assert [values[i] for i in module_columns] == grid[user_id]
        overall = f"{values[header.index('Lessons completed')]}/{values[header.index('Lessons total')]} ({values[header.index('Percent complete')]}%)"
        assert overall in page
    names = [values[0] for values in body]
    assert '\'=HYPERLINK("http://evil")' in names, "formulas are neutralised"
    assert "<script>alert(1)</script>" in names  # CSV is data, not HTML: kept as typed
    api = trainer.client.get(f"/api/v1/train/cohorts/{cohort_id}").json()
    for trainee in api["trainees"]:
        assert (
            list(trainee["modules"].values()) + list(trainee["competencies"].values())
            == grid[trainee["id"]]
        )


def test_csv_cells_that_start_like_formulas_are_prefixed() -> None:
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert safe_cell(value) == "'" + value
    assert safe_cell("Ama") == "Ama" and safe_cell(None) == "" and safe_cell(3) == "3"


def test_who_is_stuck_depends_on_the_days_asked_for(app: FastAPI, db: Database) -> None:
    trainer, cohort_id, trainees = cohort_with_trainees(app, db)
    quiet = trainees[2]
    long_ago = utcnow() - timedelta(days=10)
    with db.unit_of_work() as session:
        session.execute(
            update(Enrolment)
            .where(Enrolment.user_id == quiet.id)
            .values(enrolled_at=long_ago, position_at=None)
        )
    default = trainer.client.get(f"/train/cohorts/{cohort_id}").text
    stuck_section = default.split('id="stuck-heading"')[1].split('id="chart-heading"')[0]
    assert "no activity for 10 days" in stuck_section
    assert "Ama Mensah" not in stuck_section
    relaxed = trainer.client.get(f"/train/cohorts/{cohort_id}?stuck_days=14").text
    assert "no activity for 10 days" not in relaxed
    assert 'value="14"' in relaxed
    assert trainer.client.get(f"/train/cohorts/{cohort_id}?stuck_days=abc").status_code == 200
    export = trainer.client.get(f"/train/cohorts/{cohort_id}/export.csv?stuck_days=14").text
    assert "no activity for 10 days" not in export


def test_the_trainee_page_shows_shared_reflections_only(app: FastAPI, db: Database) -> None:
    trainer = person(app, db, "trainer")
    cohort_id = create_cohort(trainer)
    trainee = person(app, db, "trainee", name="Reflective")
    join(trainee, join_code(db, cohort_id))
    post_form(
        trainee.client,
        f"{LESSON}/reflections/why-peer-support",
        {"text": "Shared <b>thought</b> about my cousin", "share": "yes"},
        from_page=LESSON,
    )
    private_lesson = "/learn/sample-programme/listening-basics/open-questions"
    complete(trainee.client, "welcome", "what-peer-support-is")
    complete(trainee.client, "welcome", "how-this-course-works")
    response = post_form(
        trainee.client,
        f"{private_lesson}/reflections/my-questions",
        {"text": "A private worry nobody should read"},
        from_page=private_lesson,
    )
    assert response.status_code == 303
    page = trainer.client.get(f"/train/cohorts/{cohort_id}/trainees/{trainee.id}").text
    assert "Shared &lt;b&gt;thought&lt;/b&gt; about my cousin" in page
    assert "A private worry" not in page
    assert "2/2" in page and "Reflective" in page
