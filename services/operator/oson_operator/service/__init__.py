"""Application services: one database transaction per request, combining domain rules and storage."""
