"""Training: topics, sessions, invitations, attendance, calendar feed."""
