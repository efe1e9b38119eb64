"""The settings dialog, generated from the declared settings."""
