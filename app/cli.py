"""The `peerpath` command: thin wrappers that parse arguments and call a capability."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

cli = typer.Typer(
    help="PeerPath: curriculum compiler and course server for peer support training.",
    no_args_is_help=True,
    add_completion=False,
)


@cli.command()
def check(
    path: Annotated[Path, typer.Argument(help="Folder holding curriculum/, modules/, …")] = Path(
        "."
    ),
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors.")] = False,
) -> None:
    """Validate a curriculum and print every problem as path:line:col: message."""
    from app.compiler import check_curriculum

    diagnostics = sorted(check_curriculum(path), key=lambda d: (d.path, d.line, d.col))
    for diagnostic in diagnostics:
        typer.echo(str(diagnostic), err=True)
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    typer.echo(f"{errors} error(s), {warnings} warning(s)", err=True)
    if errors or (strict and warnings):
        raise typer.Exit(1)


@cli.command()
def build(
    path: Annotated[Path, typer.Argument(help="Folder holding curriculum/, modules/, …")] = Path(
        "."
    ),
    out: Annotated[Path, typer.Option(help="Where releases are written.")] = Path("var/releases"),
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors.")] = False,
    workers: Annotated[
        int | None, typer.Option(help="Processes to use (default: all cores).")
    ] = None,
) -> None:
    """Compile a curriculum into an immutable, content-hashed release."""
    import sys

    from app.compiler import BuildResult, compile_curriculum, write_release

    def run(progress: Callable[[int, int], None] | None = None) -> BuildResult:
        return compile_curriculum(
            path, workers=workers, cache_dir=Path("var/cache/compiler"), progress=progress
        )

    if sys.stdout.isatty():
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("Compiling pages", total=None)
            result = run(lambda done, total: bar.update(task, completed=done, total=total))
    else:
        result = run()
    for diagnostic in sorted(result.diagnostics, key=lambda d: (d.path, d.line, d.col)):
        typer.echo(str(diagnostic), err=True)
    errors, warnings = len(result.errors), len(result.warnings)
    typer.echo(f"{errors} error(s), {warnings} warning(s)", err=True)
    if result.release is None or not result.ok(strict):
        typer.echo("build failed: nothing was written", err=True)
        raise typer.Exit(1)
    target = write_release(result.release, out)
    typer.echo(f"{target}\n{result.release.content_hash}")


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (safe to run on every upgrade)."""
    from app.config import Settings
    from app.store import connect
    from app.store.migrate import upgrade

    database = connect(Settings())
    try:
        with database.writer.connect() as connection:
            upgrade(connection)
            connection.commit()
    finally:
        database.dispose()
    typer.echo("database is up to date")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Server processes (share nothing but the database).")
    ] = 1,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Migrate the database before starting.")
    ] = True,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request (off by default: the reverse proxy's log is the usual one, "
            "and logging each request costs about a fifth of the server's throughput).",
        ),
    ] = False,
) -> None:
    """Serve the course website and API (publishing the bundled curriculum first)."""
    import uvicorn

    if migrate_first:
        migrate()
    uvicorn.run(
        "app.web.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        access_log=access_log,
    )


@cli.command()
def backup(
    destination: Annotated[Path, typer.Argument(help="The new backup file to write.")],
) -> None:
    """Back up the SQLite database while the server runs (online backup + integrity check)."""
    from app.config import Settings
    from app.store.backup import BackupError, backup_sqlite

    try:
        written = backup_sqlite(Settings().database_url, destination)
    except BackupError as error:
        typer.echo(f"backup failed: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backed up to {written} (integrity check: ok)")


user_cli = typer.Typer(help="Accounts: create users, such as the first administrator.")
cli.add_typer(user_cli, name="user")


@user_cli.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Their email address (they sign in with it).")],
    name: Annotated[str, typer.Option(help="The name shown to them and on certificates.")],
    role: Annotated[str, typer.Option(help="trainee, trainer, admin or verifier.")] = "trainee",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an account (prompts for the password unless --password-stdin)."""
    import sys

    from app.accounts import ROLES, AccountError, create_user
    from app.config import Settings
    from app.store import connect

    if role not in ROLES:
        typer.echo(f"role: choose one of {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    database = connect(Settings())
    try:
        with database.unit_of_work() as session:
            user = create_user(
                session, email=email, display_name=name, password=password, role=role
            )
            user_id = user.id
    except AccountError as error:
        typer.echo(f"{error.field or 'error'}: {error.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    typer.echo(f"created {role} account {user_id} for {email.strip().lower()}")


certificates_cli = typer.Typer(help="Issue and verify certificates.", no_args_is_help=True)
keys_cli = typer.Typer(help="The issuer's signing keys.", no_args_is_help=True)
cli.add_typer(certificates_cli, name="certificates")
cli.add_typer(keys_cli, name="keys")


@certificates_cli.command("issue-batch")
def certificates_issue_batch(
    cohort: Annotated[int, typer.Option(help="The cohort whose trainees to certify.")],
    workers: Annotated[
        int | None, typer.Option(help="Processes rendering PDFs (default: all cores).")
    ] = None,
) -> None:
    """Issue the certificate of every eligible trainee in a cohort (already issued: kept)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from app.config import Settings
    from app.credentials.batch import cohort_enrolments, issue_batch
    from app.credentials.issuance import Actor
    from app.credentials.progress import progress_of
    from app.store import connect

    settings = Settings()
    database = connect(settings)
    try:
        with database.unit_of_work(write=False) as session:
            enrolment_ids = cohort_enrolments(session, cohort)
        if not enrolment_ids:
            typer.echo(f"cohort {cohort} has no trainees", err=True)
            raise typer.Exit(1)
        columns = (*Progress.get_default_columns()[:2], BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeRemainingColumn(), transient=False) as bar:
            task = bar.add_task("certificates", total=len(enrolment_ids))
            report = issue_batch(
                database,
                settings,
                enrolment_ids,
                progress_of,
                actor=Actor(None, "peerpath certificates issue-batch"),
                workers=workers,
                on_step=lambda _stage: bar.advance(task),
            )
    finally:
        database.dispose()
    for enrolment_id, unmet in report.not_eligible.items():
        typer.echo(f"enrolment {enrolment_id}: not eligible: {' '.join(unmet)}", err=True)
    for enrolment_id, problem in report.failed.items():
        typer.echo(f"enrolment {enrolment_id}: failed: {problem}", err=True)
    typer.echo(
        f"{len(report.issued)} issued, {len(report.already)} already issued, "
        f"{len(report.not_eligible)} not eligible, {len(report.failed)} failed"
    )
    if report.failed:
        raise typer.Exit(1)


@certificates_cli.command("verify")
def certificates_verify(
    target: Annotated[str, typer.Argument(help="A certificate ID, or the path of a PDF.")],
) -> None:
    """Verify a certificate by its ID or by its PDF file (exit 0 only if valid)."""
    from app.config import Settings
    from app.credentials.issuance import key_ring
    from app.credentials.verification import Outcome, verify_many, verify_pdf
    from app.store import connect

    settings = Settings()
    database = connect(settings)
    try:
        with database.unit_of_work(write=False) as session:
            path = Path(target)
            if target.lower().endswith(".pdf") or path.is_file():
                result = verify_pdf(session, path.read_bytes(), key_ring(settings))
                typer.echo(result.explanation)
                verdict = result.verdict
            else:
                verdict = verify_many(session, [target], key_ring(settings))[0]
                typer.echo(f"{verdict.id}: {verdict.outcome.value}: {verdict.explanation}")
    finally:
        database.dispose()
    if verdict is not None and verdict.record is not None:
        record = verdict.record
        typer.echo(f"holder: {record.holder.name}")
        typer.echo(f"certificate: {record.programme.certificate_title} (v{record.version})")
        typer.echo(f"issued: {record.issued_on}  valid until: {record.expires_on or 'no expiry'}")
        if verdict.revocation_reason:
            typer.echo(f"revoked: {verdict.revoked_at:%Y-%m-%d} ({verdict.revocation_reason})")
        if verdict.superseded_by:
            typer.echo(f"superseded by: {verdict.superseded_by}")
    if verdict is None or verdict.outcome is not Outcome.VALID:
        raise typer.Exit(1)


@certificates_cli.command("api-key")
def certificates_api_key(
    name: Annotated[str, typer.Argument(help="The certifying body the key is for.")],
) -> None:
    """Create a verifier API key for bulk verification (shown once; only its hash is kept)."""
    from app.config import Settings
    from app.credentials.apikeys import create_api_key
    from app.store import connect

    database = connect(Settings())
    try:
        with database.unit_of_work() as session:
            key = create_api_key(session, name)
    finally:
        database.dispose()
    typer.echo(key)


@certificates_cli.command("remind")
def certificates_remind(
    days: Annotated[
        list[int] | None,
        typer.Option(
            "--days",
            metavar="DAYS",
            min=1,
            max=3650,
            help="Remind this many days before expiry; repeat for several (default: 90 and 30).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List who would be reminded; send and record nothing.")
    ] = False,
) -> None:
    """Email holders whose certificates expire soon (each reminder once; run it daily)."""
    from app.config import Settings
    from app.credentials.reminders import REMINDER_THRESHOLDS, send_reminders
    from app.store import connect

    settings = Settings()
    database = connect(settings)
    try:
        report = send_reminders(
            database, settings, thresholds=tuple(days or REMINDER_THRESHOLDS), dry_run=dry_run
        )
    finally:
        database.dispose()
    sent = {reminder.public_id for reminder in report.sent}
    for reminder in report.due:
        if dry_run or reminder.public_id in sent:
            verb = "would remind" if dry_run else "reminded"
            typer.echo(
                f"{reminder.public_id}: {verb} {reminder.email} ({reminder.threshold_days}-day "
                f"reminder; expires {reminder.expires_on}, in {reminder.days_left} days)"
            )
    for public_id, problem in report.failed.items():
        typer.echo(f"{public_id}: not sent: {problem}", err=True)
    if dry_run:
        typer.echo(f"dry run: {len(report.due)} reminder(s) due; nothing sent or recorded")
    else:
        typer.echo(f"{len(report.sent)} sent, {len(report.failed)} failed")
    if report.failed:
        raise typer.Exit(1)


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Start signing with a new key; old public keys stay published so old certificates verify."""
    from app.config import Settings
    from app.credentials.issuance import key_ring

    new = key_ring(Settings()).rotate()
    typer.echo(f"now signing with key {new.kid}")


def main() -> None:
    """Entry point of the `peerpath` console script."""
    cli()
