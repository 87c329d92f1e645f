import sys

sys.exit("cognify-lineage is not implemented yet (issue #4): nothing to run.")
