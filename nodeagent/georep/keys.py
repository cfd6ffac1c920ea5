"""GEOREP_KEYGEN: one ed25519 key pair per session on each master node; only its public half leaves."""
import errno
import os

from contracts.georep_specs import check_public_key, safe_key_comment
from nodeagent.errors import AgentError
from nodeagent.georep import paths
from nodeagent.runner import Runner


def ensure_key(state_root, session_id: str, runner: Runner) -> str:
    """The session's public key, made when missing (idempotent: a redelivered task keeps the key)."""
    key = paths.key_file(state_root, session_id)
    pub = key.with_name(key.name + ".pub")
    if not (key.exists() and pub.exists()):
        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for stale in (key, pub):
            stale.unlink(missing_ok=True)
        done = runner.run([paths.SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", safe_key_comment(session_id),
                           "-f", str(key)], timeout=30)
        if done.returncode != 0:
            raise AgentError("keygen_failed", f"ssh-keygen failed: {done.stderr.strip()[:300]}",
                             "install openssh-client on the node", errno.EIO)
        os.chmod(key, 0o600)
    text = pub.read_text().strip()
    try:
        return check_public_key(" ".join(text.split()[:2]))
    except ValueError:
        raise AgentError("keygen_failed", f"{pub} does not hold an ed25519 public key",
                         "remove the session directory's secret.pem* files and retry", errno.EINVAL) from None
