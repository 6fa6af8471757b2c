"""`flask cdt users create|list`: accounts from the command line.

Errors print one line and exit with a non-zero status."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cdt.auth import service
from cdt.auth.models import ROLES, User
from cdt.extensions import db

users_group = AppGroup("users", help="Manage user accounts.")


@users_group.command("create")
@click.option("--username", required=True, help="Lower-case login name.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="One of the roles.")
@click.option("--area", "area_code", default="", help="GSO code of the area (none for admin).")
@click.option("--full-name", default="", help="The person's full name.")
def create_user(username: str, role: str, area_code: str, full_name: str) -> None:
    """Create an account; prints its random first password (changed at first log-in)."""
    with force_locale("en"):
        try:
            user, password = service.create_user(username, role, area_code, full_name, via="cli")
        except service.AccountError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        db.session.commit()
        area = f" {user.area.code} {user.area.name}" if user.area else ""
        click.echo(f"Created {user.username} ({user.role}{area}).")
        click.echo(f"First password (shown once, must be changed at first log-in): {password}")


@users_group.command("list")
def list_users() -> None:
    """List every account: username, role, area, status."""
    users = db.session.scalars(select(User).options(joinedload(User.area)).order_by(User.username)).all()
    for user in users:
        area = f"{user.area.code} {user.area.name}" if user.area else "-"
        flags = [] if user.active else ["inactive"]
        if user.must_change_password:
            flags.append("must-change-password")
        if user.is_demo:
            flags.append("demo")
        click.echo("\t".join([user.username, user.role, area, ",".join(flags)]))
