"""A small causal character-level transformer (pre-LayerNorm GPT block, Radford et al., 2019)
built on the contract's MultiHeadSelfAttention and causal_mask.

The bundled corpus is the docstrings of a fixed list of standard-library modules,
so training needs no download.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from reference_models.attention import MultiHeadSelfAttention, causal_mask
from reference_models.training import SingleLossModel

CORPUS_MODULES = ("textwrap", "string", "json", "functools", "heapq", "bisect", "fractions", "statistics", "random")


def stdlib_corpus(modules: tuple[str, ...] = CORPUS_MODULES) -> str:
    """Docstrings of the modules and their public members, in a fixed order."""
    parts = []
    for name in modules:
        module = importlib.import_module(name)
        parts.append(inspect.getdoc(module) or "")
        for attr in sorted(getattr(module, "__all__", dir(module))):
            doc = inspect.getdoc(getattr(module, attr, None)) if not attr.startswith("_") else None
            if doc:
                parts.append(f"{attr}: {doc}")
    return "\n\n".join(parts)


class CharVocab:
    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    def encode(self, text: str) -> Tensor:
        return torch.tensor([self.index[ch] for ch in text], dtype=torch.long)

    def decode(self, ids: Tensor) -> str:
        return "".join(self.chars[i] for i in ids.tolist())


@dataclass
class TransformerConfig:
    vocab_size: int = 96
    block_size: int = 64
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    lr: float = 3e-3


class Block(nn.Module):
    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(c.d_model), MultiHeadSelfAttention(c.d_model, c.n_heads)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.mlp = nn.Sequential(nn.Linear(c.d_model, 4 * c.d_model), nn.GELU(), nn.Linear(4 * c.d_model, c.d_model))

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x), mask)  # (B, L, d)
        return x + self.mlp(self.ln2(x))  # (B, L, d)


class CharTransformer(SingleLossModel):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        self.pos_emb = nn.Embedding(c.block_size, c.d_model)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layers))
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size)

    def forward(self, idx: Tensor) -> Tensor:
        """(B, L) token ids -> (B, L, vocab) next-token logits."""
        L = idx.shape[1]
        pos = torch.arange(L, device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(pos)  # (B, L, d)
        mask = causal_mask(L).to(idx.device)  # (L, L)
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln_f(x))  # (B, L, vocab)

    def loss(self, batch: Tensor) -> Tensor:
        """Next-character cross-entropy in nats; `batch` is (B, L + 1) token ids."""
        logits = self(batch[:, :-1])  # (B, L, vocab)
        return F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())

    @torch.no_grad()
    def generate(self, prompt: Tensor, n_new: int, generator: torch.Generator | None = None,
                 temperature: float = 1.0) -> Tensor:
        """Append `n_new` sampled tokens to `prompt` (B, L0); the context is cropped to block_size."""
        idx = prompt
        for _ in range(n_new):
            logits = self(idx[:, -self.config.block_size:])[:, -1] / temperature  # (B, vocab)
            probs = torch.softmax(logits, dim=-1).cpu()
            nxt = torch.multinomial(probs, 1, generator=generator).to(idx.device)  # (B, 1)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


def text_batches(ids: Tensor, block_size: int, batch_size: int, seed: int):
    """Endless (B, block_size + 1) random windows of the encoded corpus."""
    g = torch.Generator().manual_seed(seed)
    while True:
        starts = torch.randint(0, len(ids) - block_size - 1, (batch_size,), generator=g)
        yield torch.stack([ids[s : s + block_size + 1] for s in starts.tolist()])
