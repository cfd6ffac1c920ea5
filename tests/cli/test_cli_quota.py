"""kadalu volume quota: what each command sends, what it prints, and what it refuses before sending."""
from __future__ import annotations

import json

from tests.cli.cli_fakes import body, make_task

Q = "/clusters/default/volumes/qv/quota"
MiB = 1024 * 1024


def _limit(**kw):
    row = {"path": "/projects/a", "hard_bytes": 10 * MiB, "soft_percent": 80, "soft_bytes": 8 * MiB,
           "used_bytes": 11 * MiB, "available_bytes": 0, "hard_objects": None, "files": 11, "dirs": 1,
           "available_objects": None, "soft_exceeded": True, "hard_exceeded": True, "state": "applied", "reason": "",
           "usage_at": "2026-12-01T10:00:00Z"}
    return {**row, **kw}


def test_limit_usage_sends_the_size_and_soft_limit_and_shows_warnings(server, run, logged_in):
    route = server.on("POST", f"{Q}/limit-usage", {"limit": _limit(state="applying"),
                                                   "task": make_task(kind="QUOTA_LIMIT"),
                                                   "warnings": ["/projects/a already uses 11.0 MiB"]}, status=202)
    result = run("volume", "quota", "limit-usage", "qv", "/projects/a", "10MiB", "--soft-limit", "50%")
    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == {"path": "/projects/a", "hard": "10MiB", "soft": "50%"}
    assert "already uses 11.0 MiB" in result.output and "task t-1" in result.output


def test_bad_sizes_and_paths_are_refused_before_any_request(server, run, logged_in):
    for args, words in ((("/a", "10G"), "ambiguous"), (("/a", "ten"), "invalid size"),
                        (("a", "1GiB"), "absolute path"), (("/a/../b", "1GiB"), "not normalised")):
        result = run("volume", "quota", "limit-usage", "qv", *args)
        assert result.exit_code == 2 and words in result.output, (args, result.output)
    result = run("volume", "quota", "limit-objects", "qv", "/a", "0")
    assert result.exit_code == 2
    assert server.requests == []


def test_list_shows_usage_and_exceeded_flags(server, run, logged_in):
    answer = {"volume": "qv", "enabled": True, "version": 2, "limits": [_limit()]}
    server.on("GET", Q, answer)
    result = run("volume", "quota", "list", "qv")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if "/projects/a" in x)
    assert "10.0 MiB" in line and "11.0 MiB" in line and line.count("Yes") == 2
    assert "version 2" in result.stdout
    result = run("volume", "quota", "list", "qv", "--json")
    assert json.loads(result.stdout) == answer


def test_enable_remove_and_errors(server, run, logged_in):
    server.on("POST", f"{Q}/enable", {"name": "qv", "state": "Reconfiguring"}, status=202)
    result = run("volume", "quota", "enable", "qv")
    assert result.exit_code == 0 and "quota enable request sent" in result.output
    route = server.on("POST", f"{Q}/remove", {"limit": _limit(state="removing"), "task": make_task(kind="QUOTA_LIMIT"),
                                              "warnings": []}, status=202)
    assert run("volume", "quota", "remove", "qv", "/projects/a").exit_code == 0
    assert body(route.calls[0]) == {"path": "/projects/a"}
    server.on("POST", f"{Q}/disable", {"detail": "quota is not enabled on volume 'qv': enable it first"}, status=409)
    result = run("volume", "quota", "disable", "qv")
    assert result.exit_code != 0 and "quota is not enabled on volume 'qv'" in result.output
