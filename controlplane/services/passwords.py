"""The password policy: applied to every password that is set (first user, new user, change),
never at login, so accounts made under an older policy can still log in and change theirs."""
from functools import cache
from importlib import resources

from controlplane.services.errors import Invalid

MIN_PASSWORD, MAX_PASSWORD = 12, 256
MIN_DISTINCT = 5
COMMON_PASSWORDS = "common-passwords.txt"
_HOW = "a passphrase of three or more unrelated words is long and easy to remember"


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (controlplane/data), lower case; read once per process, never downloaded."""
    text = resources.files("controlplane").joinpath("data", COMMON_PASSWORDS).read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password(username: str, password: str, field: str = "password") -> None:
    """Raise Invalid naming the first rule the password breaks and how to pick one that passes."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"{field} is {len(password)} characters long: use at least {MIN_PASSWORD} ({_HOW})")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"{field} is {len(password)} characters long: use at most {MAX_PASSWORD}")
    if len(set(password)) < MIN_DISTINCT:
        raise Invalid(f"{field} uses fewer than {MIN_DISTINCT} different characters: repeat less ({_HOW})")
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise Invalid(f"{field} contains the user name {username!r}: choose one without it ({_HOW})")
    if lowered in common_passwords():
        raise Invalid(f"{field} is in the list of commonly used passwords, which attackers try first: "
                      f"choose a less guessable one ({_HOW})")
