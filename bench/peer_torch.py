"""The PyTorch peer of bench/nn: the same networks (built the same way as native/nn/models.cc),
timed the same way. Run by bench/nn.ts with Debian's python3-torch; prints one JSON line."""
import json
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


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(1)
    if spec["model"] == "cnn-lstm":
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
        for _ in range(spec["warmup"]):
            fn()
        t0 = time.perf_counter()
        for _ in range(spec["steps"]):
            fn()
        out[name] = (time.perf_counter() - t0) / spec["steps"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
