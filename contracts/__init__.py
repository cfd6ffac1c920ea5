"""What the control plane, the node agents and the CLI share: task names, state words, payloads,
signing, the size rule (`contracts.sizes`).

Neither side imports the other; both import only this package.
"""
