"""The HTTP service: app factory, settings, dependencies, errors, middleware, model state and the ``serve`` command."""
