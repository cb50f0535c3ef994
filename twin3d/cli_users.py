"""``twin3d users``: add, list and remove the users of the triple twin (thin: the work is in twin3d.auth.users).

A token is printed once, when its user is added; only its SHA-256 is kept in ``var/users.json``. A running server
notices changes to the file, so users can be added and removed without a restart.
"""

from __future__ import annotations

import click

from twin3d.auth.users import ROLES, add_user, read_users, remove_user
from twin3d.cli_console import err, errors_to_exit, out
from twin3d.settings import PathSettings


@click.group()
def users() -> None:
    """Users of the triple twin: the public, the council and the administration, with bearer tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="what the token may do")
@click.option("--twin", "twins", multiple=True, help="limit the role to this twin (repeatable); default: all")
def add(name: str, role: str, twins: tuple[str, ...]) -> None:
    """Add user NAME and print its bearer token (shown this once only)."""
    paths = PathSettings()
    with errors_to_exit():
        user, token = add_user(paths.users_file, name, role, list(twins) or None)
    err.print(
        f"added {user.name} ({user.role}{', twins: ' + ', '.join(user.twins) if user.twins else ''}); "
        "keep the token, it is not shown again. Send it as: Authorization: Bearer <token>",
        soft_wrap=True,
    )
    # The token alone on stdout, so that scripts can capture it.
    click.echo(token)


@users.command("list")
def list_users() -> None:
    """List the users with their roles (never their tokens)."""
    paths = PathSettings()
    with errors_to_exit():
        found = read_users(paths.users_file)
    if not found:
        out.print(f"no users in {paths.users_file}; add one with: twin3d users add NAME --role admin")
    for user in found:
        twins = ", ".join(user.twins) if user.twins else "all twins"
        out.print(f"{user.name}\t{user.role}\t{twins}\tadded {user.created_at}", soft_wrap=True)


@users.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Remove user NAME; its token stops working at once, also in a running server."""
    paths = PathSettings()
    with errors_to_exit():
        user = remove_user(paths.users_file, name)
    out.print(f"removed {user.name} ({user.role})")
