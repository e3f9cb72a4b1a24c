"""A Python port of the namespace notes' Go launcher, and Go's process attributes."""
