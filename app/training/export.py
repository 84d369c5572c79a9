"""The cohort dashboard as CSV: the same rows and the same words as the page."""

from __future__ import annotations

import csv
import io

from app.training.dashboard import CohortDashboard

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_header(dashboard: CohortDashboard) -> list[str]:
    return [
        "Trainee",
        "Email",
        "Version",
        "Lessons completed",
        "Lessons total",
        "Percent complete",
        "Course hours completed",
        "Last activity (UTC)",
        "Days without activity",
        "Stuck",
        "Failed attempts",
        *(f"Module: {m.title}" for m in dashboard.modules),
        *(f"Competency: {c.title}" for c in dashboard.competencies),
        "Certificate ID",
        "Certificate status",
    ]


def export_rows(dashboard: CohortDashboard) -> list[list[str]]:
    """The dashboard's rows as CSV cells (unescaped; `cohort_csv` escapes)."""
    return [
        [
            row.name,
            row.email,
            row.release_version,
            str(row.lessons_completed),
            str(row.lessons_total),
            str(row.percent),
            row.hours,
            row.last_activity.strftime("%Y-%m-%d %H:%M"),
            str(row.days_inactive),
            "; ".join(row.stuck_reasons) if row.stuck else "no",
            str(row.failed_attempts),
            *(cell.label for cell in row.modules),
            *(cell.level for cell in row.competencies),
            row.certificate_id,
            row.certificate_status,
        ]
        for row in dashboard.rows
    ]


def cohort_csv(dashboard: CohortDashboard) -> str:
    """The CSV file a trainer downloads (UTF-8 with a BOM, so spreadsheets read names right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(v) for v in export_header(dashboard)])
    for values in export_rows(dashboard):
        writer.writerow([safe_cell(v) for v in values])
    return "\ufeff" + out.getvalue()
