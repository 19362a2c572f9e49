"""Personas: preferences with verifiable checkers, and schedules that shift them over time."""
