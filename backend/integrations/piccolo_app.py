"""Piccolo app registration of the integrations domain."""

import os

from piccolo.conf.apps import AppConfig

from backend.integrations.tables import DeviceReport

APP_CONFIG = AppConfig(
    app_name="integrations",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[DeviceReport],
    migration_dependencies=["backend.installs.piccolo_app"],
    commands=[],
)
