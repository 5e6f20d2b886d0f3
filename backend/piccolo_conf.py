"""Piccolo's configuration: the engine comes from the project's settings, never from here."""

from piccolo.conf.apps import AppRegistry

from backend.db import engine_for
from backend.settings import get_settings

DB = engine_for(get_settings())

APP_REGISTRY = AppRegistry(
    apps=[
        "backend.installs.piccolo_app",
        "backend.review.piccolo_app",
        "backend.events.piccolo_app",
        "backend.integrations.piccolo_app",
        "backend.quality.piccolo_app",
        "backend.console.piccolo_app",
        "backend.jobs.piccolo_app",
        "backend.idempotency.piccolo_app",
        "backend.uploads.piccolo_app",
        "backend.notifications.piccolo_app",
    ]
)
