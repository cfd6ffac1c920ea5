"""Kadalu control plane: ReST API, control worker and beat. Holds all state; never connects to a node."""
__version__ = "0.1.0"
