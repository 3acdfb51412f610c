"""The web service and page (FastAPI; Plotly served from the installed package)."""
