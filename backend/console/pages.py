"""Every controller of the console's pages, for create_app: the specialists' and the operators'."""

from __future__ import annotations

from backend.console.dispatch import DispatchController
from backend.console.http import ConsoleController

CONSOLE_CONTROLLERS = (ConsoleController, DispatchController)
