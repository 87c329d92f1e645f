"""The numbers a reviewer reads first: key hyperparameters out of the full configuration,
loss and eval loss on one step axis, the learning rate, runtime figures as a table."""

from __future__ import annotations

from typing import Any

from cognify_exporter.figures import families, key_hyperparameters


def test_loss_and_eval_loss_share_a_chart_and_runtime_goes_to_the_table() -> None:
    metrics = {
        "loss": [(1, 2.0), (2, 1.5)],
        "learning_rate": [(1, 1e-4), (2, 5e-5)],
        "grad_norm": [(1, 3.0), (2, 2.0)],
        "epoch": [(1, 0.5), (2, 1.0)],
        "train_runtime": [(2, 12.5)],
        "train_samples_per_second": [(2, 40.0)],
    }
    evals: list[dict[str, Any]] = [
        {"step": 2, "metrics": {"eval_loss": 1.7, "eval_runtime": 0.4}},
        {"step": None, "metrics": {"accuracy": 0.9}},  # no step: not on a step axis
    ]
    charts, table = families(metrics, evals)
    titles = [c.title for c in charts]
    assert titles == ["Loss: training and evaluation", "Learning rate", "grad norm"]
    assert [name for name, _ in charts[0].series] == ["loss", "eval_loss"]
    assert charts[0].series[1][1] == [(2, 1.7)]
    assert [row[0] for row in table] == [
        "epoch",
        "eval_runtime",
        "train_runtime",
        "train_samples_per_second",
    ]
    assert table[2] == ("train_runtime", 1, 12.5, 12.5, 12.5)


def test_key_hyperparameters_name_where_each_came_from() -> None:
    config = {
        "training_args": {
            "learning_rate": 2e-4,
            "lr_scheduler_type": "cosine",
            "max_steps": 500,
            "per_device_train_batch_size": 8,
            "seed": 42,
            "bf16": True,
            "hub_token": "<redacted>",
        },
        "peft_config": {"r": 16, "lora_alpha": 32, "target_modules": ["q_proj", "v_proj"]},
        "parameter_count": 8_030_261_248,
    }
    pairs = dict(key_hyperparameters(config))
    assert pairs["learning rate"] == "0.0002 (learning_rate)"
    assert pairs["schedule"] == "cosine (lr_scheduler_type)"
    assert pairs["LoRA rank"] == "16" and pairs["LoRA targets"] == '["q_proj", "v_proj"]'
    assert pairs["parameters"] == "8,030,261,248"
    assert "hub_token" not in str(pairs)  # the appendix has the full configuration
