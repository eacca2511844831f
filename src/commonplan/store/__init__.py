"""The store: SQLAlchemy schema, engine and sessions, Alembic migrations, blobs and the audit log.

Open a database with :func:`open_database` (SQLite by default, PostgreSQL when
``COMMONPLAN_DATABASE_URL`` says so); bring its schema up to date with :func:`upgrade`.
"""

from commonplan.store.audit import AuditProblem, AuditReport, append_audit, verify_audit
from commonplan.store.database import (
    ENV_URL,
    Database,
    default_sqlite_path,
    open_database,
    resolve_url,
)
from commonplan.store.migrate import current_revision, downgrade, head_revision, upgrade

__all__ = [
    "ENV_URL",
    "AuditProblem",
    "AuditReport",
    "Database",
    "append_audit",
    "current_revision",
    "default_sqlite_path",
    "downgrade",
    "head_revision",
    "open_database",
    "resolve_url",
    "upgrade",
    "verify_audit",
]
