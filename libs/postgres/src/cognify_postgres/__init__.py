"""PostgreSQL adapter: connection settings and the versioned migrations every service shares."""

from .databases import (
    SCRATCH_PREFIX,
    drop_database,
    owner_prefix,
    scratch_database,
    scratch_databases,
    scratch_name,
)
from .migrate import Migration, MigrationError, apply_migrations, load_migrations
from .settings import PostgresSettings

__all__ = [
    "SCRATCH_PREFIX",
    "Migration",
    "MigrationError",
    "PostgresSettings",
    "apply_migrations",
    "drop_database",
    "load_migrations",
    "owner_prefix",
    "scratch_database",
    "scratch_databases",
    "scratch_name",
]
