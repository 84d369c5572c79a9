"""Learning: enrolment, reading progress, private reflections, and where a trainee stands."""

from app.learning import idempotency
from app.learning.enrolment import (
    EnrolledIn,
    EnrolmentError,
    ReleaseChanges,
    enrol,
    enrolled_in,
    enrolment_for,
    enrolments_of,
    join_cohort,
    move_to_current_release,
    newer_release,
    release_changes,
)
from app.learning.progress import (
    STATUS_WORDS,
    VISIT_CAP,
    ModuleProgress,
    Progress,
    ReportedProgress,
    load_progress,
    mark_complete,
    merge_progress,
    record_visit,
)
from app.learning.reflections import ReflectionTooLong, reflections_for_lesson, save_reflection
from app.learning.standing import (
    NOT_YET_ASSESSED,
    NOT_YET_ELIGIBLE,
    CompetencyStanding,
    certificate_requirements,
    certificate_status,
    competency_summary,
)

__all__ = [
    "NOT_YET_ASSESSED",
    "NOT_YET_ELIGIBLE",
    "STATUS_WORDS",
    "VISIT_CAP",
    "CompetencyStanding",
    "EnrolledIn",
    "EnrolmentError",
    "ModuleProgress",
    "Progress",
    "ReflectionTooLong",
    "ReleaseChanges",
    "ReportedProgress",
    "certificate_requirements",
    "certificate_status",
    "competency_summary",
    "enrol",
    "enrolled_in",
    "enrolment_for",
    "enrolments_of",
    "idempotency",
    "join_cohort",
    "load_progress",
    "mark_complete",
    "merge_progress",
    "move_to_current_release",
    "newer_release",
    "record_visit",
    "reflections_for_lesson",
    "release_changes",
    "save_reflection",
]
