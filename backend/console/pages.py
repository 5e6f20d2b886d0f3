"""Every controller of the console's pages, for create_app: signing in, the specialists' and the operators'."""

from __future__ import annotations

from backend.console.dispatch import DispatchController
from backend.console.figures import FiguresController
from backend.console.http import ConsoleController, ConsoleLoginController
from backend.console.inventory import InventoryController
from backend.console.outbox import OutboxController
from backend.console.policies import PoliciesController

CONSOLE_CONTROLLERS = (
    ConsoleLoginController,
    ConsoleController,
    DispatchController,
    InventoryController,
    OutboxController,
    FiguresController,
    PoliciesController,
)
