"""HTTP layer: the FastAPI application factory, routers and response schemas."""

from oson_operator.api.app import create_app

__all__ = ["create_app"]
