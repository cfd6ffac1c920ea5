"""The LVM thin backend on the exact commands it runs (these machines have no device-mapper): a
recording runner answers lvs and takes every other command; /proc/self/mountinfo is given as text."""
import pytest

from nodeagent.errors import AgentError
from nodeagent.runner import Completed
from nodeagent.snapshots import backends
from nodeagent.snapshots.lvm import LvmThin, lv_name

SID = "11111111-2222-3333-4444-555555555555"
BID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
CVID = "99999999-8888-7777-6666-555555555555"


class Recorder:
    def __init__(self, attr="Vwi-aotz--", existing=()):
        self.calls, self.attr, self.existing = [], attr, set(existing)

    def run(self, argv, timeout=120):
        self.calls.append(argv)
        if argv[:2] == ["lvs", "--noheadings"] and "-o" in argv and argv[argv.index("-o") + 1] == "lv_name":
            return Completed(0 if argv[-1] in self.existing else 5, "", "")
        if argv[0] == "lvs":
            return Completed(0, f"  vg0:thinbricks:{self.attr}\n", "")
        return Completed(0, "", "")


def mountinfo(dev_root, *extra):
    lines = [f"30 1 253:3 / {dev_root} rw,relatime - xfs /dev/mapper/vg0-thinbricks rw,attr2",
             "20 1 253:0 / / rw - ext4 /dev/vda rw"]
    lines += [f"{40 + i} 30 253:9 / {p} rw - xfs /dev/mapper/vg0-x rw" for i, p in enumerate(extra)]
    return "\n".join(lines) + "\n"


def test_take_snapshots_the_thin_lv_and_mounts_it_nouuid_inside_the_device(tmp_path):
    dev = tmp_path / "dev"
    (dev / "b1").mkdir(parents=True)
    r = Recorder()
    path = LvmThin(r, mountinfo(dev)).take(str(dev / "b1"), str(dev), SID, BID)
    container = f"{dev}/.kadalu-snapshots/{SID}/{BID}"
    name = lv_name("snap", SID, BID)
    assert path == f"{container}/b1"
    assert r.calls == [
        ["lvs", "--noheadings", "--separator", ":", "-o", "vg_name,lv_name,lv_attr", "/dev/mapper/vg0-thinbricks"],
        ["lvs", "--noheadings", "-o", "lv_name", f"vg0/{name}"],
        ["lvcreate", "-s", "vg0/thinbricks", "--setactivationskip", "n", "-n", name],
        ["mount", "-o", "nouuid", f"/dev/vg0/{name}", container],
    ]


def test_a_redelivered_take_finds_it_mounted_and_runs_nothing_more(tmp_path):
    dev = tmp_path / "dev"
    (dev / "b1").mkdir(parents=True)
    container = f"{dev}/.kadalu-snapshots/{SID}/{BID}"
    r = Recorder()
    LvmThin(r, mountinfo(dev, container)).take(str(dev / "b1"), str(dev), SID, BID)
    assert [c[0] for c in r.calls] == ["lvs"]  # only the lookup of the origin


def test_remove_unmounts_and_removes_the_lv(tmp_path):
    dev = tmp_path / "dev"
    container = f"{dev}/.kadalu-snapshots/{SID}/{BID}"
    name = lv_name("snap", SID, BID)
    r = Recorder(existing={f"vg0/{name}"})
    LvmThin(r, mountinfo(dev, container)).remove(str(dev), SID, BID, "vg0")
    assert r.calls == [["umount", container], ["lvs", "--noheadings", "-o", "lv_name", f"vg0/{name}"],
                       ["lvremove", "-f", f"vg0/{name}"]]
    r = Recorder()
    LvmThin(r, mountinfo(dev)).remove(str(dev), SID, BID, "vg0")  # gone already: done
    assert r.calls == [["lvs", "--noheadings", "-o", "lv_name", f"vg0/{name}"]]


def test_clone_is_a_thin_snapshot_of_the_snapshot(tmp_path):
    dev = tmp_path / "dev"
    (dev / "b1").mkdir(parents=True)
    r = Recorder()
    path = LvmThin(r, mountinfo(dev)).clone(str(dev / "b1"), str(dev), SID, BID, CVID)
    clone = lv_name("clone", CVID, BID)
    assert path == f"{dev}/.kadalu-clones/{CVID}/{BID}/b1"
    assert ["lvcreate", "-s", f"vg0/{lv_name('snap', SID, BID)}", "--setactivationskip", "n", "-n", clone] in r.calls
    assert ["mount", "-o", "nouuid", f"/dev/vg0/{clone}", f"{dev}/.kadalu-clones/{CVID}/{BID}"] in r.calls


def test_a_plain_lv_is_refused_and_named(tmp_path):
    dev = tmp_path / "dev"
    (dev / "b1").mkdir(parents=True)
    with pytest.raises(AgentError) as refused:
        backends.probe(str(dev / "b1"), str(dev), Recorder(attr="-wi-ao----"), mountinfo(dev))
    assert refused.value.code == "not_snapshottable" and "not a thin volume" in refused.value.message
    assert backends.probe(str(dev / "b1"), str(dev), Recorder(), mountinfo(dev)) == "lvm-thin"


def test_other_file_systems_are_refused_saying_what_the_brick_is_on(tmp_path):
    with pytest.raises(AgentError) as refused:
        backends.probe(str(tmp_path), str(tmp_path), Recorder(), "20 1 253:0 / / rw - ext4 /dev/vda rw\n")
    assert refused.value.code == "not_snapshottable"
    assert "ext4 (/dev/vda mounted at /)" in refused.value.message and "btrfs" in refused.value.message


def test_lv_names_stay_within_lvm_limits():
    name = lv_name("clone", CVID, BID)
    assert len(name) <= 127 and set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")
