"""The admin HTTP surface: warehouse batches and label printing."""
