"""The Prolific adapter (`adapter.ProlificPlatform`) and its parts, one role per module."""
