"""The click CLI: one module per command, thin (parse, wire, call, print)."""
