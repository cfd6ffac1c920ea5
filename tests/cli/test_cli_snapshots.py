"""kadalu snapshot: the requests each command sends, --wait, the restore confirmation, schedules."""

from __future__ import annotations

from tests.cli.cli_fakes import body

SNAPS = "/clusters/default/snapshots"


def snap(state="Creating", reason="", **kw):
    return {"id": "s-1", "name": "s1", "cluster": "default", "volume": "vol1", "description": "", "state": state,
            "settled": state not in ("Creating", "Activating", "Deactivating", "Restoring", "Deleting"),
            "failed": state == "Failed", "usable": state in ("Created", "Activated", "Deactivated"), "step": "",
            "reason": reason, "mount_name": "s1" if state == "Activated" else None, "scheduled": False,
            "bricks": [{"node": "n1", "origin_path": "/d/b1", "path": "/d/.kadalu-snapshots/s-1/b-1/b1",
                        "backend": "btrfs"}],
            "created_at": "2026-12-01T22:00:00Z", "updated_at": "2026-12-01T22:00:01Z", "message": "sent", **kw}


def test_create_sends_volume_name_and_description_and_waits(server, logged_in, run):
    route = server.on("POST", SNAPS, snap(), status=202)
    server.on("GET", f"{SNAPS}/s1", snap("Creating"), snap("Created"))
    result = run("snapshot", "create", "vol1", "s1", "--description", "before upgrade", "--wait")
    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == {"volume": "vol1", "name": "s1", "description": "before upgrade"}
    assert "Snapshot s1 is Created." in result.output


def test_a_failed_create_exits_1_with_the_reason(server, logged_in, run):
    server.on("POST", SNAPS, snap(), status=202)
    server.on("GET", f"{SNAPS}/s1", snap("Failed", reason="brick n1:/d/b1: is on ext4"))
    result = run("snapshot", "create", "vol1", "s1", "--wait")
    assert result.exit_code == 1 and "is on ext4" in result.output


def test_restore_asks_first_and_sends_nothing_when_refused(server, logged_in, run):
    result = run("snapshot", "restore", "s1", input="n\n")
    assert result.exit_code != 0 and "everything written since" in result.output
    assert server.requests == []
    route = server.on("POST", f"{SNAPS}/s1/restore", snap("Restoring"), status=202)
    assert run("snapshot", "restore", "s1", "--yes").exit_code == 0
    assert len(route.calls) == 1


def test_info_shows_how_to_mount_an_activated_snapshot(server, logged_in, run):
    server.on("GET", f"{SNAPS}/s1", snap("Activated"))
    result = run("snapshot", "info", "s1")
    assert result.exit_code == 0 and "kadalu mount -c default s1 DIR" in result.output and "btrfs" in result.output


def test_clone_names_the_new_volume(server, logged_in, run):
    route = server.on("POST", f"{SNAPS}/s1/clone", snap("Created", message="Clone request sent"), status=202)
    assert run("snapshot", "clone", "s1", "newvol").exit_code == 0
    assert body(route.calls[0]) == {"name": "newvol"}


def test_schedule_sets_shows_and_removes(server, logged_in, run):
    path = "/clusters/default/volumes/vol1/snapshot-schedule"
    shown = {"volume": "vol1", "every": "1h", "every_seconds": 3600, "keep": 24, "next_run_at": "2026-12-01T23:00:00Z",
             "last_run_at": None}
    put = server.on("PUT", path, shown)
    result = run("snapshot", "schedule", "vol1", "--every", "1h", "--keep", "24")
    assert result.exit_code == 0 and "every 1h, the newest 24 kept" in result.output
    assert body(put.calls[0]) == {"every": "1h", "keep": 24}
    assert run("snapshot", "schedule", "vol1", "--every", "1h").exit_code != 0  # both or neither
    server.on("DELETE", path, status=204)
    assert "removed" in run("snapshot", "schedule", "vol1", "--off").output
