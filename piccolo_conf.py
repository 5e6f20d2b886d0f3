"""For the `piccolo` developer CLI run from the repository root (e.g. `piccolo migrations new installs --auto`)."""

from backend.piccolo_conf import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
