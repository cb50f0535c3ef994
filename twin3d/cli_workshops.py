"""``twin3d workshops``: issue, list and withdraw workshop codes (thin: the work is in
twin3d.participation.workshops).

A code is printed once, when it is issued; only its SHA-256 is kept in ``var/workshops.json``. A running server
notices changes to the file, so codes can be issued and withdrawn without a restart. How many have joined a
workshop is in the twin's live store, which the server holds open: ``GET /api/twins/{twin}/workshops`` shows it.
"""

from __future__ import annotations

from datetime import datetime

import click

from twin3d.cli_console import err, errors_to_exit, out
from twin3d.errors import InputError, NotFoundError
from twin3d.participation.workshops import add_workshop, parse_time, read_workshops, remove_workshop
from twin3d.settings import ParticipationSettings, PathSettings


@click.group()
def workshops() -> None:
    """Workshop codes: a room of participants behind one router takes part without the per-address limits."""


@workshops.command("add")
@click.argument("twin")
@click.option("--label", required=True, help="a name the participants recognise (shown to them)")
@click.option("--quota", type=click.IntRange(min=1), required=True, help="the most participants who may join")
@click.option("--hours", type=click.FloatRange(min=0, min_open=True), help="valid for this long from now")
@click.option("--until", "until", help="or valid until this time (ISO, e.g. 2025-05-01T18:00+02:00)")
def add(twin: str, label: str, quota: int, hours: float | None, until: str | None) -> None:
    """Issue a workshop code for TWIN and print it (shown this once only)."""
    paths = PathSettings()
    with errors_to_exit():
        if not paths.pipeline_file(twin).is_file():
            raise NotFoundError(f"no twin named {twin!r}", file=paths.pipeline_file(twin), hint="twin3d list")
        expires: datetime | None = None
        if until is not None:
            try:
                expires = parse_time(until)
            except ValueError as exc:
                raise InputError(f"not an ISO time: {until!r}", record="--until") from exc
        if (hours is None) == (expires is None):
            raise InputError("give either --hours or --until", record="--hours")
        workshop, code = add_workshop(
            paths.workshops_file,
            twin,
            label,
            quota,
            hours=hours,
            expires_at=expires,
            created_by="cli",
            max_quota=ParticipationSettings().workshop_max_quota,
        )
    err.print(
        f"issued {workshop.workshop_id} for {twin}: {workshop.label!r}, up to {workshop.quota} participants, "
        f"until {workshop.expires_at}. Keep the code, it is not shown again; participants enter it in the viewer.",
        soft_wrap=True,
    )
    # The code alone on stdout, so that scripts can capture it.
    click.echo(code)


@workshops.command("list")
@click.argument("twin", required=False)
def list_workshops(twin: str | None) -> None:
    """List the workshop codes (of TWIN, or all) with quota and expiry (never the codes)."""
    paths = PathSettings()
    with errors_to_exit():
        found = read_workshops(paths.workshops_file, twin)
    if not found:
        out.print(f"no workshops in {paths.workshops_file}; issue one with: twin3d workshops add TWIN --label ...")
    for w in found:
        state = "expired" if w.expired() else "open"
        out.print(
            f"{w.workshop_id}\t{w.twin}\t{w.label}\tquota {w.quota}\tuntil {w.expires_at} ({state})", soft_wrap=True
        )


@workshops.command("remove")
@click.argument("twin")
@click.argument("workshop_id")
def remove(twin: str, workshop_id: str) -> None:
    """Withdraw the code WORKSHOP_ID of TWIN: nobody joins with it any more, its participants are limited as all."""
    paths = PathSettings()
    with errors_to_exit():
        workshop = remove_workshop(paths.workshops_file, twin, workshop_id)
    out.print(f"removed {workshop.workshop_id} ({workshop.label})")
