"""Piccolo app registration of the review domain."""

import os

from piccolo.conf.apps import AppConfig

from backend.review.tables import CaseVerdict, QueueCount, ReviewCase

APP_CONFIG = AppConfig(
    app_name="review",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[ReviewCase, CaseVerdict, QueueCount],
    migration_dependencies=["backend.installs.piccolo_app"],
    commands=[],
)
