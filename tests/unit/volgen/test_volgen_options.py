"""Volume options on the generated graphs: options land on the translators of their type in the
graphs the option table names, switches add or remove translators."""
import pytest

from optiontable import load, validate
from tests.unit.volgen.samples import CASES, sample_spec
from volgen import brick_volfile, changes_shape, client_volfile, inert_options, option_effects, shape, shd_volfile
from volgen.client import CLIENT_SWITCHES, CTIME_DEFAULT, PERF_SWITCHES, SHARD_DEFAULT
from volgen.quotad import QUOTA_VERSION


def _blocks(text: str) -> dict[str, list[str]]:
    """{xlator name: its lines}"""
    out, name = {}, None
    for line in text.splitlines():
        if line.startswith("volume "):
            name = line.split(" ", 1)[1]
            out[name] = []
        elif name and line.strip() and line != "end-volume":
            out[name].append(line.strip())
    return out


def _types(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line.strip().startswith("type ")]


def rep3(**options) -> object:
    return sample_spec("r", "replicate", 3, replica_count=3, options=options)


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c].options])
def test_sample_options_are_stored_as_the_server_normalizes_them(case):
    for name, value in CASES[case].options.items():
        if name == QUOTA_VERSION:  # not a volume option: the quota commands keep it (volgen.quotad)
            continue
        assert validate(name, value) == value


def test_switch_defaults_are_the_option_tables():
    table = load()
    defaults = {name: default for name, _, _, default in PERF_SWITCHES}
    defaults.update({"features.shard": SHARD_DEFAULT, "features.ctime": CTIME_DEFAULT})
    assert set(defaults) <= CLIENT_SWITCHES
    for name, default in defaults.items():
        assert table[name]["switch"], name
        expected = validate(name, table[name]["default"]) == "on"
        assert default == expected, name
    assert [t for _, _, t, _ in PERF_SWITCHES] == [table[n]["xlator"] for n, *_ in PERF_SWITCHES]


def test_switch_off_removes_the_translator_and_on_adds_it_in_glusterds_order():
    default = _types(client_volfile(rep3()))
    assert "performance/write-behind" in default and "performance/io-threads" not in default
    off = _types(client_volfile(rep3(**{"performance.write-behind": "off"})))
    assert off == [t for t in default if t != "performance/write-behind"]
    more = _types(client_volfile(rep3(**{"performance.read-ahead": "on", "performance.io-cache": "on",
                                         "performance.nl-cache": "on", "performance.client-io-threads": "on"})))
    perf = [t for t in more if t.startswith("performance/")]
    assert perf == ["performance/write-behind", "performance/read-ahead", "performance/io-cache",
                    "performance/open-behind", "performance/quick-read", "performance/nl-cache",
                    "performance/md-cache", "performance/io-threads"]
    assert more[-1] == "debug/io-stats"


def test_stat_prefetch_is_md_cache_and_shard_sits_on_the_volume():
    types = _types(client_volfile(rep3(**{"performance.stat-prefetch": "off", "features.shard": "on"})))
    assert "performance/md-cache" not in types
    assert types.index("features/shard") == types.index("cluster/distribute") + 1
    assert types.index("features/utime") == types.index("features/shard") + 1


def test_an_option_of_a_translator_switched_off_goes_nowhere():
    spec = rep3(**{"performance.write-behind": "off", "performance.write-behind-window-size": "4194304"})
    assert "cache-size" not in client_volfile(spec)
    assert inert_options(spec) == ["performance.write-behind-window-size"]
    spec = rep3(**{"performance.write-behind-window-size": "4194304"})
    assert _blocks(client_volfile(spec))["r-write-behind"] == ["type performance/write-behind",
                                                               "option cache-size 4194304", "subvolumes r-utime"]
    assert inert_options(spec) == []


def test_an_option_replaces_the_value_volgen_chose_in_place():
    default = _blocks(client_volfile(rep3()))["r-replicate-0"]
    lines = _blocks(client_volfile(rep3(**{"cluster.granular-entry-heal": "off"})))["r-replicate-0"]
    assert default.index("option granular-entry-heal on") == lines.index("option granular-entry-heal off")
    assert sum(line.startswith("option granular-entry-heal") for line in lines) == 1
    ping = _blocks(client_volfile(rep3(**{"network.ping-timeout": "10"})))["r-client-0"]
    assert "option ping-timeout 10" in ping and "option ping-timeout 42" not in ping


def test_log_levels_split_between_brick_and_client_graphs():
    spec = rep3(**{"diagnostics.brick-log-level": "DEBUG", "diagnostics.client-log-level": "ERROR"})
    brick = _blocks(brick_volfile(spec, spec.bricks[0], "u"))[spec.bricks[0].path]
    client = _blocks(client_volfile(spec))["r"]
    shd = _blocks(shd_volfile(spec))["r"]
    assert "option log-level DEBUG" in brick and "option log-level ERROR" not in brick
    assert "option log-level ERROR" in client and "option log-level ERROR" in shd


def test_brick_path_keys_and_both_ends_of_a_connection():
    spec = rep3(**{"auth.allow": "10.0.0.*", "ssl.own-cert": "/etc/ssl/glusterfs.pem"})
    brick = brick_volfile(spec, spec.bricks[1], "u")
    assert f"option auth.addr.{spec.bricks[1].path}.allow 10.0.0.*" in brick
    assert f"auth.addr.{spec.bricks[1].path}.allow *" not in brick
    assert "option transport.socket.ssl-own-cert /etc/ssl/glusterfs.pem" in brick
    assert client_volfile(spec).count("option transport.socket.ssl-own-cert /etc/ssl/glusterfs.pem") == 3


def test_shd_takes_daemon_options_not_client_side_heal_switches():
    spec = rep3(**{"cluster.self-heal-daemon": "off", "cluster.data-self-heal": "off", "cluster.heal-timeout": "120"})
    shd = _blocks(shd_volfile(spec))["r-replicate-0"]
    assert "option self-heal-daemon off" in shd and "option self-heal-daemon on" not in shd
    assert "option data-self-heal on" in shd  # the daemon always heals
    assert "option heal-timeout 120" in shd
    client = _blocks(client_volfile(spec))["r-replicate-0"]
    assert "option data-self-heal off" in client
    assert not any("self-heal-daemon" in line or "heal-timeout" in line for line in client)


def test_disperse_options_reach_disperse_sets():
    spec = sample_spec("d", "disperse", 3, disperse_count=3, redundancy_count=1,
                       options={"disperse.shd-max-threads": "4", "cluster.disperse-self-heal-daemon": "off"})
    assert "option shd-max-threads 4" in _blocks(client_volfile(spec))["d-disperse-0"]
    shd = _blocks(shd_volfile(spec))["d-disperse-0"]
    assert "option self-heal-daemon off" in shd and "option shd-max-threads 4" in shd


def test_ctime_off_removes_utime_and_tells_posix():
    spec = rep3(**{"features.ctime": "off"})
    assert "features/utime" not in _types(client_volfile(spec))
    assert "option ctime off" in _blocks(brick_volfile(spec, spec.bricks[0], "u"))["r-posix"]


def test_inert_options_are_listed_with_their_reason():
    spec = rep3(**{"features.read-only": "on", "features.scrub-freq": "daily", "performance.nfs.write-behind": "off",
                   "network.ping-timeout": "10", "features.sdfs": "on", "performance.read-ahead": "on",
                   "disperse.eager-lock": "off", "performance.nl-cache-timeout": "10"})
    why = option_effects(spec)
    assert sorted(why) == ["disperse.eager-lock", "features.scrub-freq", "performance.nfs.write-behind",
                           "performance.nl-cache-timeout"]
    assert "bitd" in why["features.scrub-freq"] and "gNFS" in why["performance.nfs.write-behind"]
    assert "cluster/disperse" in why["disperse.eager-lock"]
    assert "performance.nl-cache is on" in why["performance.nl-cache-timeout"]


def test_read_only_and_worm_are_values_of_translators_always_there():
    for options in ({}, {"features.read-only": "on"}, {"features.worm": "on"}):
        spec = rep3(**options)
        assert _types(brick_volfile(spec, spec.bricks[0], "u")) == _types(brick_volfile(rep3(), rep3().bricks[0], "u"))
    blocks = _blocks(brick_volfile(rep3(**{"features.read-only": "on"}), rep3().bricks[0], "u"))
    assert "option read-only on" in blocks["r-read-only"]
    assert "option read-only on" not in _blocks(brick_volfile(rep3(), rep3().bricks[0], "u"))["r-read-only"]


def test_client_io_threads_follow_glusterds_create_defaults():
    assert "performance/io-threads" not in _types(client_volfile(rep3()))
    assert "performance/io-threads" in _types(client_volfile(sample_spec("d", "distribute", 2)))
    ec = sample_spec("e", "disperse", 3, disperse_count=3, redundancy_count=1)
    assert "performance/io-threads" in _types(client_volfile(ec))


def test_parallel_readdir_shares_the_cache_between_the_sets():
    spec = sample_spec("dr", "replicate", 6, replica_count=3, options={
        "performance.parallel-readdir": "on", "performance.readdir-ahead": "on"})
    blocks = _blocks(client_volfile(spec))
    for i in (0, 1):
        assert f"subvolumes dr-replicate-{i}" in blocks[f"dr-readdir-ahead-{i}"]
        assert "option rda-cache-limit 5242880B" in blocks[f"dr-readdir-ahead-{i}"]
    assert "subvolumes dr-readdir-ahead-0 dr-readdir-ahead-1" in blocks["dr-dht"]
    assert "dr-readdir-ahead" not in blocks  # not also above distribute


def test_shape_lists_the_translators_and_names_the_options_that_change_it():
    text = client_volfile(rep3())
    assert shape(text)[-1] == ("r", "debug/io-stats") and shape(text)[0] == ("r-client-0", "protocol/client")
    assert changes_shape("client", ["performance.write-behind"])
    assert not changes_shape("brick", ["features.read-only", "features.worm", "auth.allow"])
    assert changes_shape("brick", ["features.sdfs"]) and not changes_shape("shd", ["features.sdfs"])


def test_options_of_daemons_kadalu_does_not_run_are_exactly_the_listed_ones():
    from volgen import NO_EFFECT
    from volgen.shape import SHAPE_OPTIONS
    table = load()
    assert set(NO_EFFECT) <= set(table)
    # every option the table places in no graph at all is one of them, with its reason
    assert {n for n, e in table.items() if not e["graphs"]} <= set(NO_EFFECT)
    for kind, names in SHAPE_OPTIONS.items():
        assert names <= set(table), kind
    # any other option, on a volume that has its translator, changes a graph (none is inert by accident)
    spec = rep3()
    for name in NO_EFFECT:
        assert name in option_effects(spec.model_copy(update={"options": {name: table[name]["default"] or "on"}}))
