"""Alembic environment: runs on the connection that `server.schema` hands it."""

from alembic import context

import server.models  # noqa: F401  (registers every table on Base.metadata)
from server.db import Base
from server.schema import include_object

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations through `refuge db upgrade`, which supplies the database.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that for us
    compare_type=True,
    compare_server_default=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
