"""Scenarios: scenario files, the runner, the results store and the ``osloregion`` command."""
