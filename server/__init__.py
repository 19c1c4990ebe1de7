"""AI Ready's server: app factory, configuration, routes, middleware and CLI."""
