"""One Typer sub-app per noun (cluster, node, device, user, task, alert) plus the auth commands."""
