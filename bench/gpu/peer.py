"""bench/gpu/peer.py: PyTorch on the same GPU as bench/gpu.ts, the same networks (bench/peer_torch.py's
builders, which build what native/nn/models.cc builds), batches 16 and 64, each call ended by
torch.cuda.synchronize(). Variants:
  eager                      fp32, the input copied from pageable host memory every step, as a
                             DataLoader without pin_memory hands it over
  best                       cudnn.benchmark + channels-last + bf16 autocast, input from host
  best, input on the GPU     the same with the batch already on the device (no copy at all)
The step reads loss.item() and the correct count; inference copies the softmax back, as mvclass does.
Appends a table to $OUT/results.md with mvclass's time over each (from $OUT/gpu.json: mvclass's
default on a GPU, bf16 + channels-last; and its fp32 against eager)."""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from peer_torch import CnnLstm, X3d, mv2d, mv3d, resnet, vgg16  # noqa: E402

QUICK = os.environ.get("QUICK") == "1"
# Each builder returns (model, the shape of one input); the shapes are bench/gpu.ts's.
NETS = [
    ("mv3d", lambda: mv3d(101, 160, 24, 1, 2048)),
    ("mv2d", lambda: mv2d(101, 60, 48, 1, 4096)),
    ("vgg16", lambda: vgg16(101, 224, 1, 4096)),
    # resnet18 and cnn-lstm are torchvision's ResNets: a PyTorch without torchvision fails those rows only.
    ("resnet18", lambda: (resnet("resnet18", 101, 1), (3, 224, 224))),
    ("cnn-lstm", lambda: (CnnLstm(101, "resnet18", 1024), (8, 3, 112, 112))),
    ("x3d-s", lambda: (X3d(101, 1, 2048), (13, 3, 160, 160))),
]
# The memory format channels-last means for each network's weights and input: cnn-lstm is 2D
# convolutions on a [B, T, 3, S, S] clip (its input is reshaped inside, so it stays contiguous);
# x3d-s is 3D convolutions whatever its input's rank.
CHANNELS_LAST = {"cnn-lstm": (torch.channels_last, torch.contiguous_format), "x3d-s": (torch.channels_last_3d, torch.contiguous_format)}
# name, cudnn.benchmark, channels-last, bf16 autocast, input resident on the device
VARIANTS = [
    ("eager", False, False, False, False),
    ("best", True, True, True, False),
    ("best, input on the GPU", True, True, True, True),
]
OUT = os.environ.get("OUT", "/tmp")


def md(line=""):
    print(line, flush=True)
    with open(os.path.join(OUT, "results.md"), "a") as f:
        f.write(line + "\n")


def measure(name, build, batch, variant, warmup, reps):
    _, bench, channels_last, bf16, resident = variant
    torch.backends.cudnn.benchmark = bench
    torch.manual_seed(1)
    model, shape = build()
    weights, fmt = CHANNELS_LAST.get(name, (torch.channels_last_3d if len(shape) == 4 else torch.channels_last,) * 2)
    if not channels_last:
        weights = fmt = torch.contiguous_format
    model = model.to("cuda", memory_format=weights)
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=0.005)
    x_host = torch.rand(batch, *shape) - 0.5
    y_host = (torch.arange(batch, dtype=torch.int32) * 7) % 101
    x_dev = x_host.to("cuda").contiguous(memory_format=fmt)

    def autocast():
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=bf16)

    def inputs():
        x = x_dev if resident else x_host.to("cuda").contiguous(memory_format=fmt)
        return x, y_host.to("cuda").long()

    def step():
        model.train()
        x, y = inputs()
        opt.zero_grad()
        with autocast():
            logits = model(x)
            loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        loss.item()
        (logits.argmax(1) == y).sum().item()

    def infer():
        model.eval()
        with torch.no_grad(), autocast():
            torch.softmax(model(inputs()[0]).float(), 1).cpu()

    out = {}
    for key, fn in (("train", step), ("infer", infer)):
        for _ in range(warmup):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            torch.cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1000)
        out[key] = sorted(times)[len(times) // 2]
    del model, opt, x_dev
    torch.cuda.empty_cache()
    return out


def fmt(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def main():
    if not torch.cuda.is_available():
        md(f"PyTorch peer: torch {torch.__version__} sees no CUDA device; skipped")
        return 0
    ours = {}
    try:
        with open(os.path.join(OUT, "gpu.json")) as f:
            for t in json.load(f)["timings"]:
                ours[(t["model"], t["batch"], t["variant"])] = t
    except (OSError, ValueError, KeyError):
        pass
    p = torch.cuda.get_device_properties(0)
    md(f"### PyTorch {torch.__version__} on the same GPU ({p.name}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}); "
       "ratio = mvclass time / PyTorch time (below 1: mvclass is faster)")
    md()
    md("| network | batch | PyTorch variant | train ms | inference ms | mvclass default (bf16 + channels-last) / this, train | same, inference | mvclass fp32 / this, train |")
    md("|---|---|---|---|---|---|---|---|")
    warmup, reps = (1, 3) if QUICK else (3, 10)
    for name, build in NETS:
        for batch in (16, 64):
            for variant in VARIANTS:
                try:
                    r = measure(name, build, batch, variant, warmup, reps)
                except Exception as e:  # noqa: BLE001 - one failed row must not end the peer
                    md(f"| {name} | {batch} | {variant[0]} | failed: {str(e).splitlines()[0][:200]} | | | | |")
                    continue
                best = ours.get((name, batch, "bf16 + channels-last (default)"))
                fp32 = ours.get((name, batch, "fp32"))
                ratio = lambda o, key: f"{o[key] / r[key]:.2f}x" if o else "-"  # noqa: E731
                md(f"| {name} | {batch} | {variant[0]} | {fmt(r['train'])} | {fmt(r['infer'])} | {ratio(best, 'train')} | {ratio(best, 'infer')} | {ratio(fp32, 'train')} |")
    md()
    return 0


if __name__ == "__main__":
    sys.exit(main())
