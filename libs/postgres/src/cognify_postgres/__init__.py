"""PostgreSQL adapter: connection settings and the versioned migrations every service shares."""

from .databases import drop_database
from .migrate import Migration, MigrationError, apply_migrations, load_migrations
from .settings import PostgresSettings

__all__ = [
    "Migration",
    "MigrationError",
    "PostgresSettings",
    "apply_migrations",
    "drop_database",
    "load_migrations",
]
