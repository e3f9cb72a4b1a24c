"""The comparative suite: tests by subject (test_*.py), the engine in support/, child programs in programs/."""
