"""The web UI: server-rendered pages (Jinja2 + HTMX) served by the API process."""
