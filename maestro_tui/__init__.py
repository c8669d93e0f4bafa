"""maestro-tui: mission control for many AI coding agents on one repository."""

__version__ = "0.1.0"
