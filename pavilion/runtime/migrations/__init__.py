"""Alembic migrations of the runtime database (env.py, versions/)."""
