"""Test runs: load the interface tables from sample data and run the unit tests."""
