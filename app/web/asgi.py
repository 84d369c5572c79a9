"""The ASGI application for servers (`uvicorn app.web.asgi:app`), configured from the environment."""

from app.web.app import create_app

app = create_app(serving=True)
