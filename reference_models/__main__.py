"""Train or sample a reference model.

    python -m reference_models train ddpm --dataset fashion-mnist --steps 2000 --device cpu --out runs/ddpm
    python -m reference_models sample runs/ddpm/model.safetensors --n 64 --out grid.png [--sampler ddim]

`train` writes model.safetensors, samples.png (samples.txt for the transformer),
loss.csv, loss.png and summary.json (time, final loss, test bits/dim where exact).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from reference_models.artifacts import load_model, save_checkpoint, save_grid, save_loss_curve
from reference_models.datasets import load_dataset
from reference_models.families import FAMILIES, make_config, parse_overrides
from reference_models.training import image_batches, train
from reference_models.transformer import CharVocab, stdlib_corpus, text_batches


def run_training(args: argparse.Namespace) -> dict:
    torch.manual_seed(args.seed)
    family = FAMILIES[args.family]
    overrides = parse_overrides(args.set)
    extra: dict = {}
    if family.data == "text":
        text = stdlib_corpus()
        vocab = CharVocab(text)
        config = make_config(family, {"vocab_size": len(vocab.chars), **overrides})
        batches = text_batches(vocab.encode(text), config.block_size, args.batch_size, args.seed)
        extra["vocab"] = "".join(vocab.chars)
    else:
        images, _ = load_dataset(args.dataset, "train", root=args.data_dir)
        config = make_config(family, {"image_size": images.shape[1], **overrides})
        batches = image_batches(images, args.batch_size, args.seed)
    model = family.model(config)
    log, seconds = train(model, batches, args.steps, args.device)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out / "model.safetensors", args.family, model, extra)
    save_loss_curve(log, out / "loss.csv", out / "loss.png")
    dataset = "stdlib-docstrings" if family.data == "text" else args.dataset  # text ignores --dataset
    summary = {"family": args.family, "dataset": dataset, "steps": args.steps, "batch_size": args.batch_size,
               "device": args.device, "train_seconds": round(seconds, 1), "final": log[-1]}
    if hasattr(model, "image_bits_per_dim"):
        summary["test_bits_per_dim"] = test_bits_per_dim(model, args)
    write_samples(model, args.family, extra, args.n_samples, args.seed, out / "samples", args.device)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


@torch.no_grad()
def test_bits_per_dim(model, args: argparse.Namespace, limit: int = 2000) -> float:
    images, _ = load_dataset(args.dataset, "test", root=args.data_dir)
    x = torch.from_numpy(images[:limit]).unsqueeze(1).to(args.device)  # (N, 1, H, W)
    model.eval()
    torch.manual_seed(args.seed)  # the dequantisation noise
    return torch.cat([model.image_bits_per_dim(b) for b in x.split(256)]).mean().item()


def write_samples(model, family: str, extra: dict, n: int, seed: int, stem: Path, device: str, **kwargs) -> Path:
    model.to(device).eval()
    g = torch.Generator().manual_seed(seed)
    if family == "transformer":
        vocab = CharVocab(extra["vocab"])
        prompt = vocab.encode("\n").repeat(min(n, 4), 1).to(device)  # (B, 1)
        text = model.generate(prompt, 400, generator=g)
        path = stem.with_suffix(".txt")
        path.write_text("\n\n-----\n\n".join(vocab.decode(row) for row in text))
    else:
        path = stem.with_suffix(".png")
        save_grid(model.sample(n, generator=g, **kwargs), path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reference_models")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train one family and write a checkpoint, samples and a loss curve")
    t.add_argument("family", choices=sorted(FAMILIES))
    t.add_argument("--dataset", default="fashion-mnist", help="a name from reference_models.datasets.DATASETS")
    t.add_argument("--data-dir", type=Path, help="local directory of IDX or NPZ files instead of the registry source")
    t.add_argument("--steps", type=int, default=1000)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--device", default="cpu")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--n-samples", type=int, default=64)
    t.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides, e.g. width=16")
    t.add_argument("--out", required=True)
    s = sub.add_parser("sample", help="draw samples from a checkpoint")
    s.add_argument("checkpoint", type=Path)
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="cpu")
    s.add_argument("--sampler", choices=["ddpm", "ddim"], help="DDPM only")
    s.add_argument("--ddim-steps", type=int, default=50)
    s.add_argument("--out", type=Path, required=True, help="output path; the suffix is set to .png or .txt")
    args = parser.parse_args(argv)

    if args.command == "train":
        print(json.dumps(run_training(args), indent=2))
    else:
        family, model, extra = load_model(args.checkpoint)
        kwargs = {"sampler": args.sampler, "steps": args.ddim_steps} if args.sampler else {}
        print(write_samples(model, family, extra, args.n, args.seed, args.out, args.device, **kwargs))


if __name__ == "__main__":
    main()
