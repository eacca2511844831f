"""The web server: a JSON HTTP API (with its OpenAPI schema) and web pages, in one FastAPI app.

* :func:`create_app` builds the application from :class:`Settings`;
* :func:`run` opens and migrates the database, optionally seeds the demo, and serves it
  with uvicorn (``commonplan serve``, ``commonplan demo --serve``).

See ``docs/server.md``.
"""

from commonplan.server.app import create_app
from commonplan.server.runner import run
from commonplan.server.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError", "create_app", "run"]
