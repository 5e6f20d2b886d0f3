"""Piccolo app registration of the jobs domain (work orders and dispatch)."""

import os

from piccolo.conf.apps import AppConfig

from backend.jobs.tables import Job, Visit

APP_CONFIG = AppConfig(
    app_name="jobs",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Job, Visit],
    migration_dependencies=["backend.installs.piccolo_app"],
    commands=[],
)
