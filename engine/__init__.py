"""The release as a state machine rebuilt from the ledger, and the step protocol."""
