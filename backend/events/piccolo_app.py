"""Piccolo app registration of the outbox."""

import os

from piccolo.conf.apps import AppConfig

from backend.events.tables import OutboxDelivery, OutboxEvent, WebhookSubscription

APP_CONFIG = AppConfig(
    app_name="events",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[OutboxEvent, WebhookSubscription, OutboxDelivery],
    migration_dependencies=[],
    commands=[],
)
