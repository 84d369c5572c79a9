"""Storage: SQLAlchemy models, engines and sessions. Importing it registers every table."""

from app.store import accounts, assessment, audit, certificates, learning, releases
from app.store.base import Base, utcnow
from app.store.db import Database, connect
from app.store.releases import ReleaseRecord

__all__ = [
    "Base",
    "Database",
    "ReleaseRecord",
    "accounts",
    "assessment",
    "audit",
    "certificates",
    "connect",
    "learning",
    "releases",
    "utcnow",
]
