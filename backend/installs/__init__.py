"""The install domain: connections, assets, installs and their evidence."""
