"""Issuing many certificates at once: plan in one read, render on every core, store in short
write transactions (never render while holding the database's write lock)."""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.credentials.issuance import (
    Actor,
    CertificateError,
    IssuePlan,
    NotEligible,
    key_ring,
    plan_issue,
    record_issue,
    render_plan,
)
from app.credentials.render import RenderedCertificate
from app.scoring import ProgrammeProgress
from app.store import Database
from app.store.certificates import Certificate
from app.store.learning import Enrolment

ProgressOf = Callable[[Session, Enrolment], ProgrammeProgress]
RENDER_MEMORY_LIMIT = 4 * 1024**3  # address space per rendering process


def _limit_worker() -> None:
    """Cap a rendering process's memory, so a runaway template fails alone."""
    resource.setrlimit(resource.RLIMIT_AS, (RENDER_MEMORY_LIMIT, RENDER_MEMORY_LIMIT))


@dataclass
class BatchReport:
    issued: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    not_eligible: dict[int, tuple[str, ...]] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)


def cohort_enrolments(session: Session, cohort_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Enrolment.id).where(Enrolment.cohort_id == cohort_id).order_by(Enrolment.id)
        )
    )


def issue_batch(
    database: Database,
    settings: Settings,
    enrolment_ids: Sequence[int],
    progress_of: ProgressOf,
    *,
    actor: Actor,
    workers: int | None = None,
    commit_every: int = 25,
    on_step: Callable[[str], None] = lambda _stage: None,
) -> BatchReport:
    """Issue every eligible enrolment's certificate; `on_step` is called once per enrolment."""
    report = BatchReport()
    plans: list[IssuePlan] = []
    keys = key_ring(settings)
    with database.unit_of_work(write=False) as session:
        for enrolment_id in enrolment_ids:
            enrolment = session.get(Enrolment, enrolment_id)
            if enrolment is None:
                report.failed[enrolment_id] = "no such enrolment"
                on_step("failed")
                continue
            try:
                plan = plan_issue(
                    session,
                    enrolment,
                    progress_of(session, enrolment),
                    settings=settings,
                    keys=keys,
                )
            except NotEligible as error:
                report.not_eligible[enrolment_id] = error.unmet
                on_step("not eligible")
                continue
            except CertificateError as error:
                report.failed[enrolment_id] = str(error)
                on_step("failed")
                continue
            if isinstance(plan, Certificate):
                report.already.append(plan.public_id)
                on_step("already issued")
            else:
                plans.append(plan)
    if not plans:
        return report
    workers = max(1, min(workers or os.cpu_count() or 1, len(plans)))
    pending: list[tuple[IssuePlan, RenderedCertificate]] = []

    def store() -> None:
        with database.unit_of_work() as session:
            for plan, rendered in pending:
                certificate = record_issue(session, plan, rendered, actor=actor)
                target = (
                    report.issued
                    if certificate.public_id == plan.signed.record.id
                    else report.already
                )
                target.append(certificate.public_id)
        pending.clear()

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_limit_worker
    ) as pool:
        waiting: dict[Future[RenderedCertificate], IssuePlan] = {}
        queue = iter(plans)
        for plan in queue:  # keep every worker busy, a few plans ahead
            waiting[pool.submit(render_plan, plan)] = plan
            if len(waiting) >= workers * 4:
                break
        while waiting:
            done, _ = wait(waiting, return_when=FIRST_COMPLETED)
            for future in done:
                plan = waiting.pop(future)
                try:
                    pending.append((plan, future.result()))
                except Exception as error:  # a broken template fails one, not the batch
                    assert plan.enrolment_id is not None
                    report.failed[plan.enrolment_id] = str(error)
                    on_step("failed")
                else:
                    on_step("issued")
                following = next(queue, None)
                if following is not None:
                    waiting[pool.submit(render_plan, following)] = following
            if len(pending) >= commit_every:
                store()
    if pending:
        store()
    return report
