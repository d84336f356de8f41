"""The ``operations`` monitor: request figures from the log, resource use from the samples."""
