"""The PyTorch peer of bench/epoch: one training epoch of mv3d over volumes stored as .npy files,
read through a DataLoader with 2 workers. Prints the epoch's seconds as JSON."""
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from peer_torch import mv3d  # noqa: E402


class Volumes(torch.utils.data.Dataset):
    def __init__(self, folder):
        self.files = sorted(f for f in os.listdir(folder) if f.endswith(".npy"))
        self.folder = folder

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        name = self.files[i]
        label = int(name.split("_")[0])
        return torch.from_numpy(np.load(os.path.join(self.folder, name))), label


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(1)
    model, _ = mv3d(spec["classes"], spec["frames"], spec["size"], spec["width"], spec["fc"])
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=0.005)
    loader = torch.utils.data.DataLoader(Volumes(spec["folder"]), batch_size=spec["batch"], shuffle=True, num_workers=2, drop_last=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    t0 = time.perf_counter()
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    print(json.dumps({"seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
