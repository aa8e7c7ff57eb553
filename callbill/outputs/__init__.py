"""What a close hands on: exports, PDF statements, call detail CSVs, the readers' snapshot."""
