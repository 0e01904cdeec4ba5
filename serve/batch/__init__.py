"""Batch scoring (``newsdesk score``): job vocabulary, input reading, row scoring, output, local and Dask engines."""
