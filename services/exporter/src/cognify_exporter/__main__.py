import sys

sys.exit("cognify-exporter is not implemented yet (issue #6): nothing to run.")
