"""`flask cdt users create|list` (built in the accounts issue)."""
from flask.cli import AppGroup

users_group = AppGroup("users", help="Manage user accounts.")
