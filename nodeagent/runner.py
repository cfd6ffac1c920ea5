"""Runs programs from argv lists (never a shell string). Injected where gluster work happens."""
import subprocess
from dataclasses import dataclass


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


class Runner:
    def run(self, argv: list[str], timeout: float = 120) -> Completed:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except FileNotFoundError:
            return Completed(127, "", f"{argv[0]}: command not found")
        return Completed(proc.returncode, proc.stdout, proc.stderr)
