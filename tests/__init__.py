"""The comparative suite: launchers, probes and the harness that runs them."""
