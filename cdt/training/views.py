"""Pages of the training feature."""
from flask import Blueprint

bp = Blueprint("training", __name__)
