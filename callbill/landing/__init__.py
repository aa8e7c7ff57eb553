"""Landing: the contract of the landing folder, its checks and the loader (land.py); switch formats."""
