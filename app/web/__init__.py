"""The web layer: FastAPI app factory, routers per audience, templates, static files."""

from app.web.app import create_app

__all__ = ["create_app"]
