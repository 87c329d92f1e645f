import sys

sys.exit("cognify-ingest is not implemented yet (issue #4): nothing to run.")
