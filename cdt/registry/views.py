"""Pages of the registry feature."""
from flask import Blueprint

bp = Blueprint("registry", __name__)
