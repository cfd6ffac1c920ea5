"""kadalu command line client: talks to the control plane only over its ReST API (docs/api.md)."""
