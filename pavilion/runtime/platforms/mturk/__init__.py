"""The Amazon Mechanical Turk adapter (`adapter.MTurkPlatform`) and its parts, one role per module."""
