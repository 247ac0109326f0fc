"""Faithful local emulators of crowd-platform APIs, for tests, demos and rehearsals."""
