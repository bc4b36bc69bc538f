"""How a failed check talks to a student: what was tested, expected, got, and a hint."""
from __future__ import annotations

import torch


class CheckFailure(Exception):
    def __init__(self, message: str, *, expected: str | None = None, got: str | None = None,
                 hint: str | None = None):
        super().__init__(message)
        self.message, self.expected, self.got, self.hint = message, expected, got, hint

    def markdown(self) -> str:
        parts = [self.message]
        if self.expected is not None:
            parts.append(f"**Expected:** {self.expected}")
        if self.got is not None:
            parts.append(f"**Got:** {self.got}")
        if self.hint:
            parts.append(f"**Hint:** {self.hint}")
        return "\n\n".join(parts)


def show_tensor(t: torch.Tensor, limit: int = 6) -> str:
    """A short, readable rendering of a tensor for feedback."""
    t = t.detach().to("cpu")
    head = f"shape {tuple(t.shape)}, {str(t.dtype).removeprefix('torch.')}"
    flat = t.reshape(-1)
    if flat.numel() == 0:
        return f"empty tensor ({head})"
    shown = ", ".join(_num(x) for x in flat[:limit].tolist())
    more = ", …" if flat.numel() > limit else ""
    return f"`[{shown}{more}]` ({head})"


def _num(x) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)
