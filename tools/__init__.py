"""Developer tools: run as modules (`python -m tools.<name>`), never imported by the services."""
