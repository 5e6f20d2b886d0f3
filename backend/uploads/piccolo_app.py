"""Piccolo app registration of resumable uploads."""

import os

from piccolo.conf.apps import AppConfig

from backend.uploads.tables import Upload, UploadPart

APP_CONFIG = AppConfig(
    app_name="uploads",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Upload, UploadPart],
    migration_dependencies=[],
    commands=[],
)
