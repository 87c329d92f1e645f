"""PostgreSQL adapter: connection settings and the versioned migrations every service shares."""

from .migrate import Migration, MigrationError, apply_migrations, load_migrations
from .settings import PostgresSettings

__all__ = ["Migration", "MigrationError", "PostgresSettings", "apply_migrations", "load_migrations"]
