"""cognify-exporter: seal runs and write signed, verifiable audit packages to WORM storage.

`seal` decides whether a run can be sealed, `report` turns the sealed run into one report,
`jsonpkg`, `pdf` and `xlsx` render it, `package` and `attestation` hash and sign it, and
`workflow` runs the steps over the adapters (`postgres`, `objectstore`, `kafka`, `http`).
"""

__version__ = "0.1.0"
