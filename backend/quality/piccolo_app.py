"""Piccolo app registration of the quality domain."""

import os

from piccolo.conf.apps import AppConfig

from backend.quality.tables import CalibrationAnswer, KnownAnswer

APP_CONFIG = AppConfig(
    app_name="quality",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[KnownAnswer, CalibrationAnswer],
    migration_dependencies=["backend.review.piccolo_app"],
    commands=[],
)
