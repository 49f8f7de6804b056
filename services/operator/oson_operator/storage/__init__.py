"""Storage layer: engine and sessions, table models and repositories (PostgreSQL via psycopg 3)."""
