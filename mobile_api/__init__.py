"""The HTTP contract of the mobile app (versioned)."""
