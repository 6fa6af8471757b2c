"""Users, roles, log-in, and area scoping."""
