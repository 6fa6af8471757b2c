"""Flask extensions, created once and bound in create_app()."""
import logging

from flask.logging import default_handler
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter as _Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from cdt.db import Base


class Limiter(_Limiter):
    """Flask-Limiter with its storage fallback reset on every init_app.

    With RATELIMIT_IN_MEMORY_FALLBACK_ENABLED, a storage error (Redis down) switches the
    limiter to a per-process memory storage with the same limits, and it checks the storage
    again now and then (1, 2, 4... s apart) to switch back. That "storage dead" state lives
    on the extension object, which outlives an app in tests: a new app starts on its own
    storage, not on the previous app's fallback."""

    def init_app(self, app) -> None:
        self._storage_dead = False
        super().init_app(app)
        # Flask-Limiter's logger has only a NullHandler: "storage unreachable - falling back" and
        # "storage recovered" would reach no log. Send them where the app's own messages go.
        if default_handler not in self.logger.handlers:
            self.logger.addHandler(default_handler)
            self.logger.setLevel(logging.INFO)

    @property
    def on_fallback(self) -> bool:
        """True while the limiter counts in this process's memory because its storage failed."""
        return bool(self._storage_dead and self._in_memory_fallback_enabled)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
