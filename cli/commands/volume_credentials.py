"""kadalu volume rotate-credentials: new client credentials for a stopped volume."""
from __future__ import annotations

from cli import options
from cli.client import connect
from cli.commands.volume import Name, app, volume_path
from cli.output import say


@app.command("rotate-credentials")
def rotate_credentials(name: Name, cluster: options.Cluster = "default", url: options.Url = None) -> None:
    """Give a stopped volume new client credentials (the username and password every client shows
    its bricks). They apply when the volume starts: mount every client again, and fetch volfiles
    saved with --local-volfile (or given to libgfapi users) again; mounts left in place end."""
    with connect(url) as client:
        answer = client.post(f"{volume_path(cluster, name)}/credentials", {})
    say(answer.get("message") or f"Volume {name} has new client credentials.")
