#!/usr/bin/env python3
"""PyTorch reference for gohsp's benchmarks: the same ViTs, training step and thread count as benches/throughput.rs.

Default mode prints the same `model=... variant=dense ...` lines as `cargo bench --bench throughput`, so that burn/torch
ratios can be taken. `--mnist` trains the quickstart's dense model (vit_mnist on the embedded MNIST 5k, 20 epochs)
and prints its test top-1 and wall time. `--serve NAME` is a lockstep server for compare.py (one step per stdin line).
Exits 0 with a message when torch is not installed.

The model is written directly in torch, in timm's layout (no timm needed): patch-embedding conv, class token, learned
position embedding, pre-norm blocks with a fused qkv, exact GELU, LayerNorm eps 1e-6, classifier on the class token;
initialised as gohsp's init_tensors (truncated normal 0.02, zero biases, unit norms). The step is gohsp's trainer's:
label-smoothed (0.1) cross-entropy, backward, per-tensor gradient-norm clip 1.0, AdamW (weight decay 0.05, eps 1e-5).

Knobs: GOHSP_BENCH_STEPS (timed training steps, default 10; inference runs twice as many), GOHSP_BENCH_THREADS
(default 2), GOHSP_BENCH_MODELS (default deit_tiny,vit_mnist).
"""

import argparse
import gzip
import math
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

# torch warns once that numpy is missing; nothing here uses numpy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("# torch is not installed: skipping the PyTorch reference (pip install torch)")
    sys.exit(0)

WARMUP = 2
# name -> (image size, patch, channels, classes, width, depth, heads, mlp ratio, batch), as src/model/presets.rs.
PRESETS = {
    "deit_tiny": (224, 16, 3, 1000, 192, 12, 3, 4.0, 8),
    "vit_mnist": (28, 7, 1, 10, 96, 6, 4, 4.0, 128),
}
DATA = Path(__file__).resolve().parent.parent / "data" / "mnist5k.csv.gz"


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.head_dim**-0.5
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        return self.proj(x)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        hidden = round(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Vit(nn.Module):
    def __init__(self, image, patch, chans, classes, dim, depth, heads, mlp_ratio):
        super().__init__()
        self.patch_embed = nn.Conv2d(chans, dim, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, dim))
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "norm" in name:
                nn.init.ones_(p)
            else:
                nn.init.trunc_normal_(p, std=0.02, a=-0.04, b=0.04)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


def build(name):
    image, patch, chans, classes, dim, depth, heads, ratio, batch = PRESETS[name]
    return Vit(image, patch, chans, classes, dim, depth, heads, ratio), (chans, image, classes, batch)


def optimizer(model, lr):
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05, eps=1e-5)


def clip_per_tensor(params, threshold=1.0):
    """burn's GradientClipping::Norm: each gradient tensor scaled to norm <= threshold on its own."""
    grads = [p.grad for p in params if p.grad is not None]
    norms = torch._foreach_norm(grads)
    torch._foreach_mul_(grads, [torch.clamp(threshold / (n + 1e-38), max=1.0) for n in norms])


def train_step(model, optim, images, labels, lr):
    for group in optim.param_groups:
        group["lr"] = lr
    logits = model(images)
    loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
    optim.zero_grad(set_to_none=True)
    loss.backward()
    clip_per_tensor(model.parameters())
    optim.step()
    return loss.item(), logits.detach()


def timed(run, repeats):
    """Median wall and CPU (all threads) seconds of `run` over `repeats` calls after WARMUP untimed ones."""
    walls, cpus = [], []
    for i in range(WARMUP + repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        if i >= WARMUP:
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def throughput(steps):
    wanted = os.environ.get("GOHSP_BENCH_MODELS", "deit_tiny,vit_mnist").split(",")
    for name in [n for n in PRESETS if n in wanted]:
        torch.manual_seed(0)
        model, (chans, image, classes, batch) = build(name)
        params = sum(p.numel() for p in model.parameters())
        host_images = torch.rand(batch, chans, image, image) * 2 - 1
        labels = torch.randint(0, classes, (batch,))
        model.train()
        optim = optimizer(model, 1e-4)
        train_s, train_cpu = timed(lambda: train_step(model, optim, host_images.clone(), labels, 1e-4), steps)
        model.eval()
        with torch.inference_mode():
            infer_s, infer_cpu = timed(lambda: model(host_images).sum().item(), 2 * steps)
        print(
            f"model={name} variant=torch batch={batch} params={params} train_step_ms={train_s * 1e3:.1f} "
            f"train_images_per_s={batch / train_s:.2f} train_cpu_ms={train_cpu * 1e3:.0f} "
            f"infer_batch_ms={infer_s * 1e3:.1f} infer_images_per_s={batch / infer_s:.2f} "
            f"infer_cpu_ms={infer_cpu * 1e3:.0f}",
            flush=True,
        )


def serve(name):
    """A lockstep server for compare.py: prints `ready`, then answers each stdin line `train` or `infer` with one
    training step or inference pass of `name`'s dense model and `train <wall ms> <cpu ms>` (or `infer ...`); `quit` or
    end of input stops it. The same model, batch and step as `throughput`."""
    torch.manual_seed(0)
    model, (chans, image, classes, batch) = build(name)
    host_images = torch.rand(batch, chans, image, image) * 2 - 1
    labels = torch.randint(0, classes, (batch,))
    optim = optimizer(model, 1e-4)

    def train():
        model.train()
        train_step(model, optim, host_images.clone(), labels, 1e-4)

    def infer():
        model.eval()
        with torch.inference_mode():
            model(host_images).sum().item()

    print("ready", flush=True)
    while (command := sys.stdin.readline().strip()) not in ("", "quit"):
        if command not in ("train", "infer"):
            sys.exit(f"lockstep server: unknown command `{command}` (train, infer or quit)")
        wall, cpu = time.perf_counter(), time.process_time()
        train() if command == "train" else infer()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{command} {wall * 1e3:.3f} {cpu * 1e3:.1f}", flush=True)


def load_mnist5k():
    """The embedded MNIST 5k, split as src/data/mnist5k.rs: per class the first 400 rows train, the rest test."""
    rows = [line.split(",") for line in gzip.open(DATA, "rt") if line.strip()]
    data = torch.tensor([[float(v) for v in row] for row in rows])
    pixels, labels = data[:, :784].reshape(-1, 1, 28, 28) / 255.0, data[:, 784].long()
    seen, train_idx, test_idx = [0] * 10, [], []
    for i, label in enumerate(labels.tolist()):
        (train_idx if seen[label] < 400 else test_idx).append(i)
        seen[label] += 1
    return (pixels[train_idx], labels[train_idx]), (pixels[test_idx], labels[test_idx])


def normalise(images):
    return (images - 0.1307) / 0.3081


def random_shift(images, generator, max_shift=2):
    """Each image moved by a uniform (dy, dx) in [-2, 2]^2 pixels, zero-filled (gohsp's RandomShift)."""
    b, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4)
    offsets = torch.randint(0, 2 * max_shift + 1, (b, 2), generator=generator).tolist()
    return torch.stack([padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets)])


def schedule(step, total, peak=2e-3, floor=1e-5, warmup_frac=0.15):
    """gohsp's Schedule: linear warm-up from peak/25 over 15% of the steps, then cosine to the floor."""
    warmup = round(warmup_frac * total)
    start = peak / 25
    if step < warmup:
        return start + (peak - start) * step / warmup
    progress = min((step - warmup) / max(total - warmup, 1), 1.0)
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * progress))


def mnist(epochs, seed):
    (train_x, train_y), (test_x, test_y) = load_mnist5k()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model, (_, _, _, batch) = build("vit_mnist")
    optim = optimizer(model, 2e-3)
    steps_per_epoch = math.ceil(len(train_x) / batch)
    total = epochs * steps_per_epoch
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        loss_sum = 0.0
        for step in range(steps_per_epoch):
            idx = order[step * batch : (step + 1) * batch]
            images = normalise(random_shift(train_x[idx], generator))
            lr = schedule(epoch * steps_per_epoch + step, total)
            loss, _ = train_step(model, optim, images, train_y[idx], lr)
            loss_sum += loss * len(idx)
        top1 = evaluate(model, test_x, test_y)
        elapsed = time.perf_counter() - start
        print(
            f"epoch={epoch + 1} loss={loss_sum / len(train_x):.4f} test_top1={top1:.2f} elapsed_s={elapsed:.1f}",
            flush=True,
        )
    wall = time.perf_counter() - start
    print(f"model=vit_mnist variant=torch epochs={epochs} test_top1={top1:.2f} wall_s={wall:.1f}")


def evaluate(model, images, labels, batch=256):
    model.eval()
    correct = 0
    with torch.inference_mode():
        for i in range(0, len(images), batch):
            logits = model(normalise(images[i : i + batch]))
            correct += (logits.argmax(1) == labels[i : i + batch]).sum().item()
    return 100.0 * correct / len(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", action="store_true", help="train vit_mnist on MNIST 5k and report test top-1")
    parser.add_argument("--epochs", type=int, default=20, help="epochs of --mnist (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--serve", choices=sorted(PRESETS), help="lockstep server for compare.py (one step per line)")
    args = parser.parse_args()
    threads = int(os.environ.get("GOHSP_BENCH_THREADS", "2"))
    steps = max(int(os.environ.get("GOHSP_BENCH_STEPS", "10")), 1)
    torch.set_num_threads(threads)
    load = os.getloadavg()[0]
    print(
        f"# torch {torch.__version__} reference: {torch.get_num_threads()} threads, {steps} timed training steps "
        f"(median) after {WARMUP} warm-up, {2 * steps} inference passes (median); load average {load:.2f}; "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}"
    )
    if load > os.cpu_count():
        print(f"# warning: load average {load:.1f} on {os.cpu_count()} cores: wall times are inflated, compare cpu_ms")
    if args.serve:
        serve(args.serve)
    elif args.mnist:
        mnist(args.epochs, args.seed)
    else:
        throughput(steps)


if __name__ == "__main__":
    main()
