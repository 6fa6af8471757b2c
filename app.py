"""Entry point: `flask` finds `app` here, so `flask db ...` and `flask cdt ...` just work."""
from cdt import create_app

app = create_app()
