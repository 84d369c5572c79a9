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


def main() -> None:
    """Entry point of the `peerpath` console script."""
    cli()
