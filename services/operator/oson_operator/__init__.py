"""OSON operator service.

Layers, kept apart on purpose:

* ``oson_operator.api``: HTTP only (FastAPI app factory, routers, response schemas);
* ``oson_operator.domain``: the business rules of the OSON e-money system, free of HTTP and SQL;
* ``oson_operator.storage``: the database engine, sessions, table models and repositories;
* ``oson_operator.migrations``: the Alembic environment and versioned schema migrations;
* ``oson_operator.settings``: configuration from ``OSON_*`` variables and ``/etc/oson/operator.env``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("oson-operator")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
