"""selfinstall: the backend that lets customers and installers install grid assets themselves."""

import os

# Piccolo finds its engine through this module path; set before any table is imported so the
# console script works from any directory, not only from the repository root.
os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
