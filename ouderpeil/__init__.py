"""Ouderpeil: parent-involvement indicators per sector, school and SES group."""

__version__ = "0.1.0"
