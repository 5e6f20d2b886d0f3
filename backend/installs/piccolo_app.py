"""Piccolo app registration of the install domain (tables and committed migrations)."""

import os

from piccolo.conf.apps import AppConfig

from backend.installs.tables import (
    Asset,
    CheckResult,
    ClaimAttempt,
    Connection,
    Decision,
    Event,
    InfoRequest,
    Install,
    LocationFix,
    Photo,
)

APP_CONFIG = AppConfig(
    app_name="installs",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        Connection,
        Asset,
        Install,
        Photo,
        LocationFix,
        CheckResult,
        Decision,
        Event,
        ClaimAttempt,
        InfoRequest,
    ],
    migration_dependencies=[],
    commands=[],
)
