"""The PyTorch peer of bench/nn: the same networks (built the same way as native/nn/models.cc),
timed the same way. Run by bench/nn.ts with Debian's python3-torch; prints one JSON line."""
import json
import resource
import sys
import time

import torch
import torch.nn as nn


DROPOUT = 0.0  # cnn-lstm's (native/nn/models.cc, kCnnLstmDropout)


def scaled(c, width):
    return max(4, round(c * width))


def mv3d(classes, frames, size, width, fc):
    c1, c2, c3 = scaled(64, width), scaled(128, width), scaled(256, width)
    layers = [nn.Conv3d(2, c1, 3, stride=(2, 1, 1), padding=1), nn.PReLU(), nn.MaxPool3d(2, ceil_mode=True),
              nn.Conv3d(c1, c2, 3, stride=(2, 1, 1), padding=1), nn.PReLU(), nn.MaxPool3d(2, ceil_mode=True)]
    for i in range(3):
        layers += [nn.ConstantPad3d((0, 1, 0, 1, 0, 1), 0.0), nn.Conv3d(c2 if i == 0 else c3, c3, 2), nn.PReLU()]
    layers += [nn.MaxPool3d(2, ceil_mode=True)]
    features = nn.Sequential(*layers)
    flat = features(torch.zeros(1, 2, frames, size, size)).numel()
    head = nn.Sequential(nn.Linear(flat, fc), nn.PReLU(), nn.Dropout(0.5), nn.Linear(fc, fc), nn.PReLU(), nn.Dropout(0.5), nn.Linear(fc, classes))
    return nn.Sequential(features, nn.Flatten(), head), (2, frames, size, size)


def mv2d(classes, frames, size, width, fc):
    c1, c2, c3 = scaled(96, width), scaled(256, width), scaled(384, width)
    features = nn.Sequential(
        nn.Conv2d(2 * frames, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(), nn.Conv2d(c3, c3, 3, padding=1), nn.ReLU(),
        nn.Conv2d(c3, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
    flat = features(torch.zeros(1, 2 * frames, size, size)).numel()
    head = nn.Sequential(nn.Linear(flat, fc), nn.ReLU(), nn.Dropout(0.5), nn.Linear(fc, fc), nn.ReLU(), nn.Dropout(0.5), nn.Linear(fc, classes))
    return nn.Sequential(features, nn.Flatten(), head), (2 * frames, size, size)


def vgg16(classes, size, width, fc):
    # torchvision's configuration "D", as native/nn/models.cc builds it (no torchvision needed).
    layers, c_in = [], 3
    for c in (64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0):
        if c == 0:
            layers.append(nn.MaxPool2d(2, 2))
            continue
        layers += [nn.Conv2d(c_in, scaled(c, width), 3, padding=1), nn.ReLU(inplace=True)]
        c_in = scaled(c, width)
    hidden = 4096 if width >= 1 else fc
    head = nn.Sequential(nn.Linear(c_in * 49, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
                         nn.Dropout(0.5), nn.Linear(hidden, classes))
    return nn.Sequential(nn.Sequential(*layers), nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(), head), (3, size, size)


def resnet(name, classes, width):
    # torchvision's own ResNets (Debian's python3-torchvision 0.14): native/nn/models.cc builds the
    # same layout under the same names, so this is the same network.
    import torchvision
    if width != 1:
        raise SystemExit("the PyTorch peer builds torchvision's ResNets at width 1 only")
    return getattr(torchvision.models, name)(num_classes=classes)


class CnnLstm(nn.Module):
    # native/nn/models.cc's cnn-lstm: torchvision's resnet without fc per frame, fc 3fc/4 fc/2 (ReLU,
    # dropout), one LSTM layer (hidden fc/2) over the frames, its outputs averaged over time, fc/4 and the classes.
    def __init__(self, classes, backbone, fc, dropout=DROPOUT):
        super().__init__()
        import torchvision
        self.resnet = getattr(torchvision.models, backbone)()
        features = self.resnet.fc.in_features
        self.resnet.fc = nn.Identity()
        self.encoder = nn.Sequential(nn.Linear(features, fc), nn.ReLU(), nn.Dropout(dropout), nn.Linear(fc, 3 * fc // 4), nn.ReLU(), nn.Dropout(dropout),
                                     nn.Linear(3 * fc // 4, fc // 2))
        self.lstm = nn.LSTM(fc // 2, fc // 2, num_layers=1, batch_first=True)
        self.decoder = nn.Sequential(nn.Linear(fc // 2, fc // 4), nn.ReLU(), nn.Dropout(dropout), nn.Linear(fc // 4, classes))

    def forward(self, x):
        b, t = x.shape[:2]
        per_frame = self.encoder(self.resnet(x.reshape(b * t, *x.shape[2:])))
        out, _ = self.lstm(per_frame.view(b, t, -1))
        return self.decoder(out.mean(1))


def round_width(width, multiplier):
    # pytorchvideo's round_width (divisor 8, at least 8).
    w = width * multiplier
    out = max(8, int(w + 4) // 8 * 8)
    return out + 8 if out < 0.9 * w else out


class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class SqueezeExcitation(nn.Module):
    def __init__(self, channels, reduced):
        super().__init__()
        self.block = nn.Sequential(nn.Conv3d(channels, reduced, 1), nn.ReLU(), nn.Conv3d(reduced, channels, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.block(x.mean((2, 3, 4), keepdim=True))


class Module(nn.Module):
    """A module with named children and a forward that runs them in order (None skipped)."""

    def __init__(self, **children):
        super().__init__()
        self.order = []
        for name, child in children.items():
            if child is not None:
                setattr(self, name, child)
                self.order.append(name)

    def forward(self, x):
        for name in self.order:
            x = getattr(self, name)(x)
        return x


class ResBlock(nn.Module):
    def __init__(self, c_in, inner, out, stride, se):
        super().__init__()
        self.branch1_conv = nn.Conv3d(c_in, out, 1, stride=(1, stride, stride), bias=False) if c_in != out or stride > 1 else None
        self.branch1_norm = nn.BatchNorm3d(out) if c_in != out else None
        self.branch2 = Module(conv_a=nn.Conv3d(c_in, inner, 1, bias=False), norm_a=nn.BatchNorm3d(inner), act_a=nn.ReLU(),
                              conv_b=nn.Conv3d(inner, inner, 3, stride=(1, stride, stride), padding=1, groups=inner, bias=False),
                              norm_b=nn.Sequential(nn.BatchNorm3d(inner), SqueezeExcitation(inner, se) if se else nn.Identity()), act_b=Swish(),
                              conv_c=nn.Conv3d(inner, out, 1, bias=False), norm_c=nn.BatchNorm3d(out))

    def forward(self, x):
        shortcut = x
        if self.branch1_conv is not None:
            shortcut = self.branch1_conv(x)
        if self.branch1_norm is not None:
            shortcut = self.branch1_norm(shortcut)
        return torch.relu(shortcut + self.branch2(x))


class ResStage(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.res_blocks = nn.ModuleList(blocks)

    def forward(self, x):
        for block in self.res_blocks:
            x = block(x)
        return x


class X3dHead(nn.Module):
    def __init__(self, c_in, inner, out, classes):
        super().__init__()
        self.pool = Module(pre_conv=nn.Conv3d(c_in, inner, 1, bias=False), pre_norm=nn.BatchNorm3d(inner), pre_act=nn.ReLU(),
                           pool=nn.AdaptiveAvgPool3d(1), post_conv=nn.Conv3d(inner, out, 1, bias=False), post_act=nn.ReLU())
        self.dropout = nn.Dropout(0.5)
        self.proj = nn.Linear(out, classes)

    def forward(self, x):
        return self.proj(self.dropout(self.pool(x).flatten(1)))


class X3d(nn.Module):
    """X3D-S with pytorchvideo's module names (as native/nn/x3d.cc builds it), on [B, T, 3, S, S]."""

    def __init__(self, classes, width, fc):
        super().__init__()
        c = scaled(24, width)
        # pytorchvideo's stem names its spatial 1x3x3 convolution conv_t and the depthwise temporal one conv_xy.
        stem = Module(conv=Module(conv_t=nn.Conv3d(3, c, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), bias=False),
                                  conv_xy=nn.Conv3d(c, c, (5, 1, 1), padding=(2, 0, 0), groups=c, bias=False)),
                      norm=nn.BatchNorm3d(c), activation=nn.ReLU())
        blocks = [stem]
        for depth, w in zip((3, 5, 11, 7), (24, 48, 96, 192)):
            out = scaled(w, width)
            inner = int(2.25 * out)
            res = [ResBlock(c if i == 0 else out, inner, out, 2 if i == 0 else 1, round_width(inner, 1 / 16) if i % 2 == 0 else 0) for i in range(depth)]
            blocks.append(ResStage(res))
            c = out
        blocks.append(X3dHead(c, inner, fc, classes))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x):
        x = x.permute(0, 2, 1, 3, 4).contiguous()
        for block in self.blocks:
            x = block(x)
        return x


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(1)
    if spec["model"] == "x3d-s":
        model, shape = X3d(spec["classes"], spec["width"], spec["fc"]), (spec["frames"], 3, spec["size"], spec["size"])
        if spec.get("state"):
            # The state dict's names and shapes and the parameter count, instead of timings.
            print(json.dumps({"parameters": sum(p.numel() for p in model.parameters()),
                              "state": {k: list(v.shape) for k, v in model.state_dict().items()}}))
            return
    elif spec["model"] == "cnn-lstm":
        if spec["width"] != 1:
            raise SystemExit("the PyTorch peer builds cnn-lstm's torchvision backbone at width 1 only")
        model, shape = CnnLstm(spec["classes"], spec.get("backbone", "resnet18"), spec["fc"]), (spec["frames"], 3, spec["size"], spec["size"])
    elif spec["model"].startswith("resnet"):
        model, shape = resnet(spec["model"], spec["classes"], spec["width"]), (3, spec["size"], spec["size"])
    else:
        build = mv3d if spec["model"] == "mv3d" else mv2d
        model, shape = build(spec["classes"], spec["frames"], spec["size"], spec["width"], spec["fc"])
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=0.005)
    x = torch.randn(spec["batch"], *shape)
    y = torch.randint(0, spec["classes"], (spec["batch"],))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        model.train()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    def infer():
        model.eval()
        with torch.no_grad():
            torch.softmax(model(x), 1)

    out = {}
    for name, fn in (("train", step), ("infer", infer)):
        steps = spec["steps"] if name == "train" else spec.get("inferSteps", spec["steps"])
        for _ in range(spec["warmup"]):
            fn()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        out[name] = (time.perf_counter() - t0) / steps
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        if name == "train":
            out["trainCpu"] = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / spec["steps"]
            out["trainFaults"] = (r1.ru_minflt - r0.ru_minflt) / spec["steps"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
