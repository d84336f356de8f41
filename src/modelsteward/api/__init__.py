"""REST API (FastAPI): thin routes that parse, authorise and call one service function."""
