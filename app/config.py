"""All configuration, read once from environment variables (and an optional .env file)."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CrisisResource(BaseModel):
    """One locally configured crisis or referral contact, shown wherever lessons ask for it."""

    name: str
    contact: str
    description: str = ""


class Settings(BaseSettings):
    """PeerPath settings. Every field can be set as `PEERPATH_<NAME>` (lists and objects as JSON)."""

    model_config = SettingsConfigDict(env_prefix="PEERPATH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/peerpath.db",
        validation_alias=AliasChoices("DATABASE_URL", "PEERPATH_DATABASE_URL"),
    )
    data_dir: Path = Path("var")
    curriculum_path: Path = Path(".")
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    site_name: str = "PeerPath"
    crisis_resources: list[CrisisResource] = Field(default_factory=list)
    crisis_intro: str = (
        "If you or someone you are with is in immediate danger, contact your local "
        "emergency services now."
    )
    secure_cookies: bool = False
    session_days: int = 14
    api_token_days: int = 90
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "peerpath@localhost"
    smtp_starttls: bool = True
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # FastAPI's built-in OpenTelemetry (traces, metrics and logs to the globally configured
    # providers). Off unless asked for: looking the providers up costs every request.
    opentelemetry: bool = False

    @cached_property
    def resolved_secret_key(self) -> str:
        """The signing secret: from the environment, else generated once and kept in data_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
