"""What the control plane and the node agents share: task names, state words, payloads, signing.

Neither side imports the other; both import only this package.
"""
