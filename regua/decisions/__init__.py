"""The analysts' decisions: users, limit decisions, the append-only audit log, review requests.

A core package (it imports no stage): the workbench writes here and the nightly flow reads
the decisions in force from here. SQLite file by default, PostgreSQL by URL; the schema is
Alembic's migrations under `migrations/`, shipped inside the package.
"""
