"""A tiny causal language model, tokenizer and synthetic clinical-notes dataset, all built in
code: no weights or data are downloaded. Used by the walkthrough, the tests and the benches."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

WORDS = (
    "patient",
    "admitted",
    "with",
    "chest",
    "pain",
    "discharged",
    "stable",
    "follow",
    "up",
    "in",
    "two",
    "weeks",
    "no",
    "acute",
    "distress",
    "vitals",
    "normal",
    "prescribed",
    "aspirin",
    "daily",
    "history",
    "of",
    "diabetes",
    "blood",
    "pressure",
    "elevated",
    "denies",
    "fever",
    "cough",
    "resolved",
)


def tokenizer() -> PreTrainedTokenizerFast:
    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", "<s>", "</s>", *sorted(set(WORDS))])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=core,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
    )


def model(vocab_size: int = 64, hidden: int = 32, layers: int = 2, seed: int = 0) -> Any:
    import torch

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=64,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
    )
    return LlamaForCausalLM(config)


def notes(n: int, seed: int = 0) -> Dataset:
    rng = random.Random(seed)
    rows = [
        {"note_id": i, "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))}
        for i in range(n)
    ]
    return Dataset.from_list(rows)


def tokenized(ds: Dataset, tok: PreTrainedTokenizerFast, length: int = 16) -> Dataset:
    def encode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        out = tok(batch["text"], truncation=True, max_length=length, padding="max_length")
        out["labels"] = [list(ids) for ids in out["input_ids"]]
        return dict(out)

    return ds.map(encode, batched=True, remove_columns=ds.column_names)


def save_notes(root: Path, train: int = 64, evaluation: int = 16) -> tuple[Path, Path]:
    """Write train/eval splits with save_to_disk, as the walkthrough's /data directory."""
    paths = root / "train", root / "eval"
    notes(train, seed=1).save_to_disk(str(paths[0]))
    notes(evaluation, seed=2).save_to_disk(str(paths[1]))
    return paths
