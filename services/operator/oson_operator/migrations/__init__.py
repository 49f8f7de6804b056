"""Alembic environment and versioned schema migrations of the ``oson`` database.

Run them with ``oson-operator-migrate upgrade`` (or ``python -m oson_operator.migrate``).
"""
