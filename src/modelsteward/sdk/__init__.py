"""Python SDK: ``modelsteward.Client`` talks to a modelsteward server over HTTP."""
