"""Landing: the contract of the landing folder (contract.py), the checks a row must pass (checks.py),
reading a file (reader.py), the loader (land.py) and the phone switches' own formats (switch_formats.py)."""
