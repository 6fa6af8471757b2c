"""Coverage indicators and their exports."""
