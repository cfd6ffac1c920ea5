"""Volfile generation: pure functions from a VolumeSpec to GlusterFS volfile text (no I/O)."""
from volgen.brick import brick_volfile
from volgen.client import client_volfile
from volgen.shd import shd_volfile

__all__ = ["brick_volfile", "client_volfile", "shd_volfile"]
