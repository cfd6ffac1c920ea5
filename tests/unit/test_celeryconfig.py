import celeryconfig


def test_agents_use_correctness_settings_and_their_own_unacked_keys():
    a = celeryconfig.agent_config("redis://x", "n1")
    b = celeryconfig.agent_config("redis://x", "n2")
    for conf in (a, b):
        assert conf["task_acks_late"] and conf["worker_prefetch_multiplier"] == 1
        assert conf["accept_content"] == ["json"] and conf["task_serializer"] == "json"
        assert conf["broker_transport_options"]["visibility_timeout"] > conf["task_time_limit"]
    keys = ("unacked_key", "unacked_index_key", "unacked_mutex_key")
    assert all(a["broker_transport_options"][k] != b["broker_transport_options"][k] for k in keys)
    assert a["broker_transport_options"]["unacked_key"] == "kadalu.node.n1.unacked"
