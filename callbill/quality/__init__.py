"""The Great Expectations suites of the close (suites.py) and the worker process that runs them."""
