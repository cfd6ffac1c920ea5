"""The `kadalu` command: root app, sub-app registration and error handling.

Entry point: `cli.main:app` (also `python -m cli.main`).
"""

from __future__ import annotations

import click
import typer
from typer.core import TyperGroup

from cli.commands import (
    alert,
    auth,
    cluster,
    cluster_verify,
    device,
    failures,
    geo_replication,
    mount,
    node,
    snapshot,
    task,
    user,
    volume,
    volume_credentials,
    volume_expand,
    volume_options,
    volume_quota,
    volume_rebalance,
)
from cli.errors import CliError
from cli.output import exit_with_error

# These add their commands to `kadalu volume` when imported (after `volume`, above).
CLUSTER_COMMAND_MODULES = (cluster_verify,)  # add `kadalu cluster verify` when imported
VOLUME_COMMAND_MODULES = (volume_credentials, volume_expand, volume_options, volume_quota, volume_rebalance)


class KadaluGroup(TyperGroup):
    """Root command group: every CliError raised below it becomes `Error: ...` on stderr."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)  # type: ignore[arg-type]  # typer types it with its own copy of click
        except CliError as exc:
            exit_with_error(exc.message, exc.code)


app = typer.Typer(add_completion=False,
    cls=KadaluGroup,
    name="kadalu",
    help="Manage kadalu (GlusterFS) clusters through the control plane's ReST API.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

app.command("login")(auth.login)
app.command("logout")(auth.logout)
app.command("whoami")(auth.whoami)
app.add_typer(cluster.app, name="cluster")
app.add_typer(node.app, name="node")
app.add_typer(device.app, name="device")
app.add_typer(user.app, name="user")
app.add_typer(task.app, name="task")
app.add_typer(alert.app, name="alert")
app.add_typer(volume.app, name="volume")
app.add_typer(geo_replication.app, name="geo-replication")
app.add_typer(snapshot.app, name="snapshot")
app.command("mount")(mount.mount)
app.command("umount")(mount.umount)
app.command("failurereport")(failures.failurereport)


if __name__ == "__main__":
    app(prog_name="kadalu")
