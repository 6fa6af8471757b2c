"""The CDT registry: Flask application factory."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from cdt import config as config_module
from cdt.config import ROOT


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # The instance folder holds the SQLite database, the secret key and waiting uploads.
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    app.config.from_mapping(config_module.load(app.instance_path))
    if test_config:
        app.config.update(test_config)
    # SQL parameters (personal values) never appear in an exception message or a log line.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}),
                                               "hide_parameters": True}
    _trust_proxies(app)

    from cdt.ops import production

    production.check(app)  # CDT_ENV=production: refuse to start without a real key and Redis

    from cdt.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from cdt.core.i18n import select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    from cdt.core import inputs

    inputs.init_app(app)  # before the blueprints: their <int:...> routes use its converter
    _import_models()
    _register_blueprints(app)
    _register_cli(app)

    from cdt import ops
    from cdt.core import compression, data_version, security, templating

    security.init_app(app)
    templating.init_app(app)
    compression.init_app(app)
    data_version.init_app(app)
    ops.init_app(app)

    if not app.debug:
        logging.getLogger("cdt").setLevel(logging.INFO)

    from cdt.registry.transfer import uploads

    uploads.clean(app)  # what a killed confirmation (a `.work` file) or a forgotten preview left
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind PROXY_FIX_X_FOR reverse proxies, the client address is the one the nearest
    proxies put in X-Forwarded-For (request.remote_addr, used by throttling and the audit
    trail); with 0 the header is ignored."""
    proxies = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if proxies < 0:
        raise ValueError("PROXY_FIX_X_FOR must be 0 or more")
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=0, x_host=0, x_port=0, x_prefix=0)


def _import_models() -> None:
    """Import every model module so that metadata (and Alembic) sees all tables."""
    import cdt.api.models  # noqa: F401
    import cdt.audit.models  # noqa: F401
    import cdt.auth.models  # noqa: F401
    import cdt.core.data_version  # noqa: F401
    import cdt.geo.models  # noqa: F401
    import cdt.outputs.models  # noqa: F401
    import cdt.privacy.models  # noqa: F401
    import cdt.registry.models  # noqa: F401
    import cdt.registry.names  # noqa: F401  (the ORM listeners that keep person_name_key)
    import cdt.reports.models  # noqa: F401
    import cdt.training.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    import cdt.geo.village_views  # noqa: F401  (these three modules add their routes to the geo and registry blueprints)
    import cdt.registry.transfer.views  # noqa: F401
    import cdt.registry.views  # noqa: F401
    from cdt.api.pages import bp as api_pages_bp
    from cdt.api.views import bp as api_bp
    from cdt.audit.views import bp as audit_bp
    from cdt.auth.views import bp as auth_bp
    from cdt.core.views import bp as core_bp
    from cdt.geo.blueprint import bp as geo_bp
    from cdt.ops.health import bp as ops_bp
    from cdt.outputs.views import bp as outputs_bp
    from cdt.privacy.views import bp as privacy_bp
    from cdt.registry.blueprint import bp as registry_bp
    from cdt.reports.units import bp as units_bp
    from cdt.reports.views import bp as reports_bp
    from cdt.training.views import bp as training_bp

    for bp in (core_bp, ops_bp, auth_bp, audit_bp, units_bp, geo_bp, registry_bp, training_bp, reports_bp,
               outputs_bp, api_bp, api_pages_bp, privacy_bp):
        app.register_blueprint(bp)


def _register_cli(app: Flask) -> None:
    from cdt.cli import cdt_group, translate_group

    app.cli.add_command(cdt_group)
    app.cli.add_command(translate_group)
