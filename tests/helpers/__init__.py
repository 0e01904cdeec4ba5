"""Helpers the tests import: paths, training tiny bundles, API fixtures, real server processes."""
