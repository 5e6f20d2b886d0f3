"""selfinstall: the backend that lets customers and installers install grid assets themselves."""
