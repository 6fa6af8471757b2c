"""`flask cdt ...` and `flask translate ...`: the command-line entry points.

Each feature keeps its own commands in its folder (cli.py) and they are attached here.
"""
from __future__ import annotations

import subprocess
import sys

import click
from flask.cli import AppGroup

from cdt.config import ROOT

cdt_group = AppGroup("cdt", help="CDT registry commands.")
translate_group = AppGroup("translate", help="Translation catalogue commands.")


def _attach() -> None:
    from cdt import demo
    from cdt.api import cli as api_cli
    from cdt.auth import cli as auth_cli
    from cdt.geo import cli as geo_cli
    from cdt.ops import cli as ops_cli
    from cdt.outputs import cli as outputs_cli
    from cdt.privacy import cli as privacy_cli
    from cdt.registry import cli as registry_cli
    from cdt.reports import cli as reports_cli
    from cdt.reports import stats as reports_stats
    from cdt.training import topics as training_topics

    cdt_group.add_command(geo_cli.units_group)
    cdt_group.add_command(demo.demo_command)
    cdt_group.add_command(reports_cli.report_group)
    cdt_group.add_command(reports_stats.stats_group)
    cdt_group.add_command(auth_cli.users_group)
    cdt_group.add_command(registry_cli.import_group)
    cdt_group.add_command(training_topics.topics_group)
    cdt_group.add_command(outputs_cli.indicators_group)
    reports_cli.report_group.add_command(outputs_cli.outputs_command)
    cdt_group.add_command(ops_cli.backup_command)
    cdt_group.add_command(ops_cli.restore_command)
    cdt_group.add_command(api_cli.export_group)
    cdt_group.add_command(privacy_cli.holidays_group)
    cdt_group.add_command(privacy_cli.privacy_group)


# Our marker keywords besides Babel's own: _l (lazy_gettext) and ngettext_noop (plural messages of
# other libraries, see cdt/core/forms.py).
EXTRACT_KEYWORDS = ("-k", "_l", "-k", "ngettext_noop:1,2")


def _pybabel(*args: str) -> None:
    cmd = [sys.executable, "-m", "babel.messages.frontend", *args]
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode != 0:
        raise click.ClickException("pybabel " + " ".join(args[:1]) + " failed")


@translate_group.command("update")
def translate_update() -> None:
    """Extract messages and update every catalogue."""
    _pybabel("extract", "-F", "babel.cfg", *EXTRACT_KEYWORDS, "-o", "messages.pot", ".")
    _pybabel("update", "-i", "messages.pot", "-d", "translations", "--no-fuzzy-matching")
    (ROOT / "messages.pot").unlink(missing_ok=True)


@translate_group.command("compile")
def translate_compile() -> None:
    """Compile every catalogue (.po -> .mo)."""
    _pybabel("compile", "-d", "translations", "--statistics")


@translate_group.command("init")
@click.argument("language")
def translate_init(language: str) -> None:
    """Start a catalogue for a new language."""
    _pybabel("extract", "-F", "babel.cfg", *EXTRACT_KEYWORDS, "-o", "messages.pot", ".")
    _pybabel("init", "-i", "messages.pot", "-d", "translations", "-l", language)
    (ROOT / "messages.pot").unlink(missing_ok=True)


_attach()
