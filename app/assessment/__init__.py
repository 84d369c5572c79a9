"""Assessment: attempts, free-text moderation, role-play ratings, and the evidence they give.

Every function takes a SQLAlchemy Session, changes objects and flushes; none commits.
Errors are `AssessmentError` subclasses whose message can be shown as is and whose
`status` suggests the HTTP status (403, 404, 409, 422).

Attempts (tables `attempts`, `free_text_responses`):
- `availability(session, enrolment, assessment)`: attempts used/left, cool-down, open attempt.
- `start_attempt(session, enrolment, release, assessment_id)`: a new attempt (or the open one).
- `public_items(session, attempt)`: the items as a browser may see them, in planned order.
- `save_answers(session, attempt, raw)`: merge answers by item (autosave; idempotent).
- `submit_attempt(session, attempt, raw=None)`: finalise once and score; late answers ignored.
- `attempt_review(session, attempt)`: the explained result after submission.
- `attempts_for(session, enrolment, assessment_id)`, `close_if_expired(session, attempt)`.

Free-text feedback moderation:
- `responses_to_moderate(session, trainer=None)`: unreviewed automatic feedback (of the
  trainees `trainer` may assess, if given).
- `confirm_feedback(session, answer, trainer, note="")` / `override_feedback(session, answer,
  trainer, note)`: a trainer's verdict, shown to the trainee, audited.

Role-plays (tables `roleplay_sessions`, `roleplay_ratings`, `harmful_followups`):
- `open_session(session, enrolment, assessment_id, trainer)`: a session to rate.
- `submit_rating(session, rp, rater, items, expected_version=None)`: record or edit a rating
  (item → (level, comment)); stale edits raise `StaleEdit`; level 1 opens a follow-up.
- `visible_ratings(session, rp, viewer)`: blind rule: nothing until the viewer has rated.
- `session_ratings`, `rating_by`, `sessions_for`, `session_agreement(session, rp)`.
- `open_followups(session, trainer=None)`, `followups_for(session, rp)`,
  `resolve_followup(session, followup, trainer, note)`: audited.

Access: `may_assess(session, user, enrolment)`: admins always; trainers for trainees in the
cohorts they run, or any trainee with no cohort. Trainer-side functions check it themselves;
`assessable_enrolments(user)` is the same rule as a query condition on `Enrolment`.

Standing: `enrolment_standing(session, enrolment) -> Standing(levels, eligibility, hours,
progress, evidence, unresolved_harmful)` for the dashboard and for certificate issuance.
"""

from app.assessment.access import assessable_enrolments, check_may_assess, may_assess
from app.assessment.attempts import (
    GRACE,
    Availability,
    Review,
    ReviewItem,
    Submission,
    attempt_assessment,
    attempt_review,
    attempts_for,
    availability,
    close_if_expired,
    public_items,
    question_assessment,
    save_answers,
    start_attempt,
    submit_attempt,
    time_left,
)
from app.assessment.errors import (
    AlreadySubmitted,
    AssessmentError,
    AttemptLimitReached,
    CoolingDown,
    InvalidAnswers,
    InvalidRating,
    NotAllowed,
    StaleEdit,
    TimeUp,
    UnknownAssessment,
)
from app.assessment.feedback import confirm_feedback, override_feedback, responses_to_moderate
from app.assessment.roleplay import (
    SessionAgreement,
    followups_for,
    open_followups,
    open_session,
    rating_by,
    resolve_followup,
    role_play_assessment,
    session_agreement,
    session_assessment,
    session_ratings,
    sessions_for,
    submit_rating,
    visible_ratings,
)
from app.assessment.standing import Standing, collect_evidence, enrolment_standing

__all__ = [
    "GRACE",
    "AlreadySubmitted",
    "AssessmentError",
    "AttemptLimitReached",
    "Availability",
    "CoolingDown",
    "InvalidAnswers",
    "InvalidRating",
    "NotAllowed",
    "Review",
    "ReviewItem",
    "SessionAgreement",
    "StaleEdit",
    "Standing",
    "Submission",
    "TimeUp",
    "UnknownAssessment",
    "assessable_enrolments",
    "attempt_assessment",
    "attempt_review",
    "attempts_for",
    "availability",
    "check_may_assess",
    "close_if_expired",
    "collect_evidence",
    "confirm_feedback",
    "enrolment_standing",
    "followups_for",
    "may_assess",
    "open_followups",
    "open_session",
    "override_feedback",
    "public_items",
    "question_assessment",
    "rating_by",
    "resolve_followup",
    "responses_to_moderate",
    "role_play_assessment",
    "save_answers",
    "session_agreement",
    "session_assessment",
    "session_ratings",
    "sessions_for",
    "start_attempt",
    "submit_attempt",
    "submit_rating",
    "time_left",
    "visible_ratings",
]
