"""The embedded sandbox: the sample product and the recorded Models CI (docs/SANDBOX.md)."""
