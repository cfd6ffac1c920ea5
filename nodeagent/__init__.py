"""Kadalu node agent: registers with the control plane, then consumes only its own queue."""
__version__ = "0.1.0"
