"""Piccolo app registration of the idempotency keys."""

import os

from piccolo.conf.apps import AppConfig

from backend.idempotency.tables import IdempotencyKey

APP_CONFIG = AppConfig(
    app_name="idempotency",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[IdempotencyKey],
    migration_dependencies=[],
    commands=[],
)
