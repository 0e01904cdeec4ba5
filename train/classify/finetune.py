"""The fine-tuning backend: a transformer sequence classifier trained end to end on CPU.

``AutoModelForSequenceClassification`` on top of any encoder checkpoint (a folder or a
Hugging Face id), trained with AdamW and a linear warm-up/decay schedule, with early stopping
on a validation split of the training articles (the best epoch's weights are kept).
Multi-label data uses ``problem_type="multi_label_classification"`` (one sigmoid per label,
thresholds tuned on the validation split).

Long articles are not cut at ``max_length``: every article is laid out in overlapping
token windows (as the encoder backend does). Each window is a training example carrying its
article's labels, and an article's prediction is the mean of its windows' logits; the
validation loss is computed on those article-level logits, the way predictions are made.

The weights are saved with ``save_pretrained`` (safetensors) inside the bundle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from newsdesk.train.classify.decisions import LabelDecisions, sigmoid
from newsdesk.train.classify.encoder import token_windows
from newsdesk.train.classify.linear_head import check_labels, softmax, targets_for, tuned_thresholds, validation_split
from newsdesk.train.hf import (
    pretrained_options,
    require_transformers,
    resolve_model,
    set_torch_threads,
    tokenizer_options,
)
from newsdesk.train.progress import track

BACKEND = "finetuned-transformer"
MODEL_DIR = "transformer"
FINETUNE_ARRAYS = "finetune.npz"


@dataclass
class FinetuneConfig:
    """Options of the fine-tuning backend."""

    base_model: str | None = field(
        default=None, metadata={"help": "checkpoint to fine-tune: a folder or Hugging Face id (e.g. an encoder)"}
    )
    epochs: int = field(default=3, metadata={"help": "most passes over the training windows"})
    batch_size: int = field(default=16, metadata={"help": "windows per optimisation step"})
    learning_rate: float = field(default=5e-5, metadata={"help": "AdamW peak learning rate"})
    max_length: int = field(default=256, metadata={"help": "tokens per window (longer articles get more windows)"})
    stride: int = field(
        default=32, metadata={"help": "tokens shared by consecutive windows (at most a quarter of max_length)"}
    )
    patience: int = field(default=1, metadata={"help": "epochs without a better validation loss before stopping"})
    validation_size: float = field(default=0.1, metadata={"help": "share of training articles for early stopping"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    warmup: float = field(default=0.1, metadata={"help": "share of the steps spent warming the learning rate up"})

    @property
    def window_overlap(self) -> int:
        """The stride actually used: at most a quarter of a window, so each window brings new tokens."""
        return min(self.stride, self.max_length // 4)

    def __post_init__(self) -> None:
        checks = {
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "learning_rate": self.learning_rate > 0,
            "max_length": self.max_length >= 8,
            "stride": self.stride >= 0,
            "patience": self.patience >= 1,
            "validation_size": 0 < self.validation_size < 1,
            "weight_decay": self.weight_decay >= 0,
            "warmup": 0 <= self.warmup < 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(
                f"invalid fine-tuning options: {', '.join(f'{name}={getattr(self, name)!r}' for name in bad)} "
                "(epochs, batch_size, patience >= 1; learning_rate > 0; max_length >= 8; stride >= 0; "
                "0 < validation_size < 1; 0 <= warmup < 1)"
            )


class FinetunedClassifier(LabelDecisions):
    """A fine-tuned transformer topic classifier with the interface of the other backends."""

    backend = BACKEND

    def __init__(self, config: FinetuneConfig, multi_label: bool | None = None, seed: int = 0) -> None:
        if not config.base_model:
            raise ValueError("fine-tuning needs a base model: pass --base-model PATH_OR_ID")
        self.config = config
        self.multi_label = multi_label
        self.seed = seed

    # ------------------------------------------------------------------ training

    def fit(
        self, texts: Sequence[str], labels: Sequence[Sequence[str] | str], progress: bool = True
    ) -> FinetunedClassifier:
        """Fine-tune on cleaned texts and their labels; keeps the weights of the best validation epoch."""
        torch = require_transformers()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

        label_sets, classes, self.multi_label_ = check_labels(texts, labels, self.multi_label)
        self.classes_ = np.array(classes, dtype=object)
        torch.manual_seed(self.seed)
        config = self.config
        path = resolve_model(str(config.base_model))
        self.tokenizer_ = AutoTokenizer.from_pretrained(path, **tokenizer_options(from_bundle=False))
        if not self.tokenizer_.is_fast:
            raise ValueError(f"{config.base_model} has no fast tokenizer; windows need one (tokenizer.json)")
        self.model_ = AutoModelForSequenceClassification.from_pretrained(
            path,
            **pretrained_options(from_bundle=False),
            num_labels=len(classes),
            id2label=dict(enumerate(classes)),
            label2id={label: i for i, label in enumerate(classes)},
            problem_type="multi_label_classification" if self.multi_label_ else "single_label_classification",
            ignore_mismatched_sizes=True,
        )
        targets = targets_for(label_sets, classes).astype(np.float32)
        fit_idx, val_idx = validation_split(label_sets, config.validation_size, self.seed)
        ids, owner = token_windows(
            self.tokenizer_, [texts[i] for i in fit_idx], config.max_length, config.window_overlap
        )
        window_targets = targets[fit_idx][owner]
        steps_per_epoch = math.ceil(len(ids) / config.batch_size)
        optimizer = torch.optim.AdamW(
            self.model_.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        total = steps_per_epoch * config.epochs
        schedule = get_linear_schedule_with_warmup(optimizer, int(config.warmup * total), total)
        generator = np.random.default_rng(self.seed)
        best_loss, best_state, stale = math.inf, None, 0
        self.history_: list[dict[str, float]] = []
        for epoch in range(1, config.epochs + 1):
            self.model_.train()
            order = generator.permutation(len(ids))
            batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
            running = 0.0
            bar = _progress(batches, f"fine-tuning epoch {epoch}/{config.epochs}", progress)
            for step, batch in enumerate(bar, start=1):
                padded = self.tokenizer_.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
                logits = self.model_(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"]).logits
                loss = self._loss(torch, logits, torch.from_numpy(window_targets[batch]))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                running += float(loss.detach())
                if hasattr(bar, "set_postfix"):
                    bar.set_postfix(loss=f"{running / step:.4f}")
            val_logits = self._article_logits([texts[i] for i in val_idx])
            val_loss = float(self._loss(torch, torch.from_numpy(val_logits), torch.from_numpy(targets[val_idx])))
            self.history_.append(
                {"epoch": epoch, "train_loss": round(running / len(batches), 5), "val_loss": round(val_loss, 5)}
            )
            if val_loss < best_loss - 1e-6:
                best_loss, stale = val_loss, 0
                best_state = {k: v.detach().clone() for k, v in self.model_.state_dict().items()}
                best_val_logits = val_logits
                self.best_epoch_ = epoch
            else:
                stale += 1
                if stale >= config.patience:
                    break
        assert best_state is not None
        self.model_.load_state_dict(best_state)
        self.model_.eval()
        val_probs = self._probabilities(best_val_logits)
        self.thresholds_ = (
            tuned_thresholds(val_probs, targets[val_idx].astype(np.int8))
            if self.multi_label_
            else np.full(len(classes), 0.5)
        )
        self.validation_loss_ = best_loss
        return self

    def _loss(self, torch: Any, logits: Any, targets: Any) -> Any:
        if self.multi_label_:
            return torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), targets)
        return torch.nn.functional.cross_entropy(logits.float(), targets.argmax(dim=1))

    # ------------------------------------------------------------------ predicting

    def _article_logits(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Mean window logits per text, shape (n_texts, n_labels)."""
        torch = require_transformers()
        was_training = self.model_.training
        self.model_.eval()
        ids, owner = token_windows(self.tokenizer_, texts, self.config.max_length, self.config.window_overlap)
        logits = np.zeros((len(ids), len(self.classes_)), dtype=np.float64)
        order = np.argsort([-len(w) for w in ids], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                padded = self.tokenizer_.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
                output = self.model_(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"])
                logits[batch] = output.logits.float().numpy()
        if was_training:
            self.model_.train()
        sums = np.zeros((len(texts), logits.shape[1]))
        np.add.at(sums, owner, logits)
        return sums / np.maximum(np.bincount(owner, minlength=len(texts)), 1)[:, None]

    def _probabilities(self, logits: np.ndarray) -> np.ndarray:
        return sigmoid(logits) if self.multi_label_ else softmax(logits)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, shape (n_texts, n_labels); rows sum to 1 unless multi-label."""
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        return self._probabilities(self._article_logits(texts))

    # ------------------------------------------------------------------ bundle files

    def save_files(self, directory: Path) -> dict[str, Any]:
        """Write the model with ``save_pretrained`` (safetensors), its tokenizer and thresholds."""
        folder = directory / MODEL_DIR
        self.model_.save_pretrained(folder, safe_serialization=True)
        self.tokenizer_.save_pretrained(folder)
        np.savez_compressed(directory / FINETUNE_ARRAYS, thresholds=self.thresholds_)
        params = {k: v for k, v in self.config.__dict__.items()}
        return {
            "backend": BACKEND,
            "params": {**params, "seed": self.seed},
            "training": {
                "history": self.history_,
                "best_epoch": self.best_epoch_,
                "validation_loss": self.validation_loss_,
            },
            "files": [MODEL_DIR, FINETUNE_ARRAYS],
        }

    @classmethod
    def load_files(cls, directory: Path, entry: dict[str, Any], manifest: dict[str, Any]) -> FinetunedClassifier:
        """Rebuild from :meth:`save_files` output; the model must list the manifest's labels in order."""
        require_transformers()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        set_torch_threads()
        params = dict(entry["params"])
        seed = int(params.pop("seed", 0))
        model = cls(FinetuneConfig(**params), multi_label=bool(manifest["multi_label"]), seed=seed)
        folder = directory / MODEL_DIR
        model.tokenizer_ = AutoTokenizer.from_pretrained(folder, **tokenizer_options(from_bundle=True))
        model.model_ = AutoModelForSequenceClassification.from_pretrained(
            folder, **pretrained_options(from_bundle=True)
        ).eval()
        labels = [model.model_.config.id2label[i] for i in range(model.model_.config.num_labels)]
        if labels != list(manifest["labels"]):
            raise ValueError(f"the model's labels {labels} differ from the manifest's {manifest['labels']}")
        with np.load(directory / FINETUNE_ARRAYS, allow_pickle=False) as npz:
            model.thresholds_ = np.asarray(npz["thresholds"], dtype=np.float64)
        model.classes_ = np.array(labels, dtype=object)
        model.multi_label_ = bool(manifest["multi_label"])
        model.history_ = list(entry.get("training", {}).get("history", []))
        return model


def _progress(items: list[Any], description: str, enabled: bool) -> Any:
    return track(items, description, "batches", enabled=enabled)
