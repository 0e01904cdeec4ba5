"""The HTTP routes, one module per concern: articles, health, models and the web page."""
