"""Piccolo app registration of the console (its sessions)."""

import os

from piccolo.conf.apps import AppConfig

from backend.console.tables import ConsoleSession

APP_CONFIG = AppConfig(
    app_name="console",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[ConsoleSession],
    migration_dependencies=[],
    commands=[],
)
