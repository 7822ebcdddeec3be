"""bench/x3d-reference's PyTorch side: peer_torch.py's X3d (an independent PyTorch build of
native/nn/x3d.cc's X3D-S, same names and shapes) loaded with our initial weights, fed our batches,
and compared with what our network did on them (see bench/x3d-reference.ts for the files):
  1. one training-mode forward and backward on the first batch: the loss, every parameter's
     gradient (ours from a plain SGD step), the batch norm running statistics after it;
  2. 20 Adam steps with our learning rates and clip norm: the losses, the gradient norms, every
     parameter and buffer after them;
  3. the same run continued to all the steps: the losses and the top-1 on the training and the
     held-out clips' centre views, beside ours; and our final weights scored here in eval mode
     (the eval path: batch norm's running statistics).
Run by bench/x3d-reference.ts as: python3 bench/x3d_reference.py <out>"""
import json
import os
import sys
import time

import ast
import struct

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_torch import X3d  # noqa: E402


def read_npy(file):
    """A .npy file (format 1.0, little-endian float32 or int32, C order) as a tensor, without numpy."""
    raw = open(file, "rb").read()
    assert raw[:6] == b"\x93NUMPY" and raw[6] == 1, f"{file}: not a .npy file of format 1.0"
    (length,) = struct.unpack("<H", raw[8:10])
    header = ast.literal_eval(raw[10:10 + length].decode("latin1"))
    dtype = {"<f4": torch.float32, "<i4": torch.int32}[header["descr"]]
    return torch.frombuffer(bytearray(raw[10 + length:]), dtype=dtype).reshape(header["shape"])


def relative(a, b):
    """||a - b|| / ||b|| (0 when both are 0)."""
    d = float((a - b).norm())
    n = float(b.norm())
    return d / n if n > 0 else d


def build(ours, state):
    c = ours["config"]
    model = X3d(c["classes"], c["width"], c["fc"])
    model.blocks[5].dropout.p = float(ours["dropout"])
    model.load_state_dict({k: v.clone() for k, v in state.items()}, strict=True)
    return model


def top1(model, views, labels):
    model.eval()
    with torch.no_grad():
        return float((model(views).argmax(1) == labels).float().mean())


def main():
    out = sys.argv[1]
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    torch.manual_seed(int(os.environ.get("SEED", "1")))
    ours = json.load(open(os.path.join(out, "ours.json")))
    load = lambda name: read_npy(os.path.join(out, name))
    x, y = load("batches.npy"), load("labels.npy").long()
    views = {s: (load(f"views-{s}.npy"), load(f"labels-{s}.npy").long()) for s in ("train", "test")}
    init = torch.load(os.path.join(out, "init.pt"))
    starts = [sum(ours["sizes"][:i]) for i in range(len(ours["sizes"]) + 1)]
    batch = lambda i: (x[starts[i]:starts[i + 1]], y[starts[i]:starts[i + 1]])
    exact = float(ours["dropout"]) == 0
    if not exact:
        print("note: dropout is on (our masks come from our generator): steps 1-2 cannot match exactly")

    # 1. One forward and backward on the first batch.
    model = build(ours, init)
    model.train()
    xb, yb = batch(0)
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    sgd1 = torch.load(os.path.join(out, "sgd1.pt"))
    params = dict(model.named_parameters())
    worst = max(((relative((init[k] - sgd1[k]) / ours["gradLr"], p.grad), k) for k, p in params.items()), key=lambda t: t[0])
    print(f"1. first batch: loss ours {ours['sgdLoss']:.7f}, PyTorch {float(loss):.7f} (difference {abs(ours['sgdLoss'] - float(loss)):.1e})")
    print(f"   gradients of {len(params)} parameters: largest relative difference {worst[0]:.1e} ({worst[1]})")
    per_stage = {}
    for k, p in params.items():
        stage = ".".join(k.split(".")[:2])
        per_stage.setdefault(stage, []).append(relative((init[k] - sgd1[k]) / ours["gradLr"], p.grad))
    print("   per block (largest): " + ", ".join(f"{s} {max(v):.1e}" for s, v in per_stage.items()))
    stats = [(float((model.state_dict()[k] - sgd1[k]).abs().max()), k) for k in sgd1 if "running" in k]
    print(f"   batch norm running statistics after it ({len(stats)} tensors): largest difference {max(stats)[0]:.1e} ({max(stats)[1]})")

    # 2 and 3. Adam with our rates and clip norm, over all the steps.
    model = build(ours, init)
    opt = torch.optim.Adam(model.parameters(), lr=ours["rates"][0], weight_decay=0)
    losses, norms = [], []
    t0 = time.perf_counter()
    for i in range(ours["steps"]):
        model.train()
        for g in opt.param_groups:
            g["lr"] = ours["rates"][i]
        xb, yb = batch(i)
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), ours["clipNorm"] if ours["clipNorm"] > 0 else float("inf"))))
        opt.step()
        losses.append(float(loss))
        if i + 1 == 20:
            a20 = torch.load(os.path.join(out, "adam20.pt"))
            mine = model.state_dict()
            diffs = [(relative(mine[k].double(), a20[k].double()), k) for k in a20 if "num_batches" not in k]
            dl = max(abs(a - b) for a, b in zip(losses, ours["losses"][:20]))
            dn = max(abs(a - b) / b for a, b in zip(norms, ours["gradNorms"][:20]))
            print(f"2. 20 Adam steps: losses differ by at most {dl:.1e}, gradient norms by {dn:.1e} (relative); "
                  f"parameters and buffers: largest relative difference {max(diffs)[0]:.1e} ({max(diffs)[1]}), "
                  f"num_batches_tracked {int(mine['blocks.0.norm.num_batches_tracked'])} / {int(a20['blocks.0.norm.num_batches_tracked'])}")
    seconds = time.perf_counter() - t0
    mean = lambda v: sum(v) / len(v)
    tr, te = top1(model, *views["train"]), top1(model, *views["test"])
    print(f"3. {ours['steps']} steps: PyTorch in {seconds:.1f} s, loss {mean(losses[:10]):.3f} (first 10) -> {mean(losses[-20:]):.3f} (last 20), "
          f"top-1 training clips {100 * tr:.1f}%, held out {100 * te:.1f}%")
    print(f"   ours: in {ours['seconds']:.1f} s, loss {mean(ours['losses'][:10]):.3f} -> {mean(ours['losses'][-20:]):.3f}, "
          f"top-1 training clips {100 * ours['top1']['train']:.1f}%, held out {100 * ours['top1']['test']:.1f}%")
    final = build(ours, torch.load(os.path.join(out, "final.pt")))
    print(f"   our final weights scored by PyTorch: training clips {100 * top1(final, *views['train']):.1f}%, held out {100 * top1(final, *views['test']):.1f}%")
    json.dump({"losses": losses, "gradNorms": norms, "seconds": seconds, "top1": {"train": tr, "test": te}}, open(os.path.join(out, "reference.json"), "w"))


if __name__ == "__main__":
    main()
