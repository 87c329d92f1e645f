"""Cognify SDK: an audit trail for Hugging Face fine-tuning.

    import cognify
    cognify.init(workspace_id=..., api_key=..., project=..., run_tags={...})
    ref = cognify.dataset(dataset=train_dataset, name=..., version=..., provenance={...})
    from cognify.integrations.huggingface import CognifyTrainerCallback
    trainer = Trainer(..., callbacks=[CognifyTrainerCallback(train_dataset_ref=ref)])
    cognify.eval(benchmark_name=..., benchmark_version=..., results={...})

A custom training loop (plain PyTorch, Accelerate) records the same things itself:

    with cognify.start_run(project=...) as run:
        run.log_config({...}, model=model)
        run.log_metrics(step, {"loss": loss.item()})
        run.log_checkpoint(directory, step)

Events are queued on the training thread and published by a background thread; when the
broker is down they wait in an on-disk spool. Nothing here raises into training.
"""

from ._version import __version__
from .api import (
    CognifyError,
    current_run,
    dataset,
    eval,
    export_audit,
    finish,
    init,
    start_run,
)
from .config import ConfigurationError
from .dataset_ref import DatasetError, DatasetRef
from .provenance import ProvenanceWarning

__all__ = [
    "CognifyError",
    "ConfigurationError",
    "DatasetError",
    "DatasetRef",
    "ProvenanceWarning",
    "__version__",
    "current_run",
    "dataset",
    "eval",
    "export_audit",
    "finish",
    "init",
    "start_run",
]
