"""Pavilion: keep crowds of real-time workers present, in simulation and live."""

__version__ = "0.1.0"
