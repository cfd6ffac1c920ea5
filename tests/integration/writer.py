"""A client that keeps writing to a mount while a test breaks the control plane around it."""
import os
import threading
import time


class Writer(threading.Thread):
    """Appends a line to a file on the mount every 50 ms, fsynced, and keeps every error it meets."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.lines, self.errors = path, 0, []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                with open(self.path, "a") as f:
                    f.write(f"line {self.lines}\n")
                    f.flush()
                    os.fsync(f.fileno())
                self.lines += 1
            except OSError as exc:
                self.errors.append(f"{time.strftime('%H:%M:%S')} {exc}")
            time.sleep(0.05)

    def stop(self):
        self.halt.set()
        self.join(10)
