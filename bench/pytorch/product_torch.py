#!/usr/bin/env python3
"""PyTorch peer for bench/product-throughput.ts: the product's two default architectures, trained the
way a TRAIN job trains them, on the same CPU in the same run.

- small_cnn_m: 3 blocks of [conv3x3 same + ReLU, conv3x3 same + ReLU, maxpool 2] with 32/64/128
  filters, flatten, dense 256 + ReLU ("features"), dropout 0.2, dense to the classes; Adam,
  cross-entropy with label smoothing 0.05; whole network trains (a scratch backbone).
- mobilenet_v2 fine-tuning: torchvision's MobileNetV2 (width 1.0) with a new head (dropout 0.2 +
  linear), whole network trainable, its BatchNorm layers in inference mode (the product holds a
  pretrained backbone's batch norm so: libs/ml/src/zoo/batch-norm-mode.ts); Adam, label smoothing 0.05.

Times steps on a fixed random batch (after warm-up) in both memory formats and reports the faster.
Prints one JSON object. Exits 3 if torch is absent (Debian: apt-get install python3-torch python3-torchvision).
"""
import argparse
import copy
import json
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["small_cnn_m", "mobilenet_v2"], required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        print(json.dumps({"status": "absent"}))
        return 3
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    if args.model == "small_cnn_m":
        layers, c = [], 3
        for f in (32, 64, 128):
            layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU(), nn.Conv2d(f, f, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c = f
        side = args.size // 8
        net = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(128 * side * side, 256), nn.ReLU(),
            nn.Dropout(0.2), nn.Linear(256, args.classes),
        )
        frozen_bn = False
    else:
        from torchvision.models import mobilenet_v2

        net = mobilenet_v2(num_classes=1000)
        net.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(net.last_channel, args.classes))
        frozen_bn = True

    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.randint(0, args.classes, (args.batch,))
    rates = {}
    for fmt in ("contiguous", "channels_last"):
        m = copy.deepcopy(net)
        xf = x
        if fmt == "channels_last":
            m = m.to(memory_format=torch.channels_last)
            xf = x.contiguous(memory_format=torch.channels_last)
        m.train()
        if frozen_bn:
            for mod in m.modules():
                if isinstance(mod, nn.BatchNorm2d):
                    mod.eval()
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(m(xf), y).backward()
            opt.step()

        step()
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while n < 2 or time.perf_counter() - t0 < args.seconds:
            step()
            n += 1
        wall = time.perf_counter() - t0
        rates[fmt] = {"samplesPerSec": n * args.batch / wall, "samplesPerCpuSec": n * args.batch / (time.process_time() - c0), "steps": n}
    best = max(rates, key=lambda f: rates[f]["samplesPerSec"])
    print(json.dumps({"status": "ok", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "model": args.model, "size": args.size, "batch": args.batch, "memoryFormat": best,
                      **rates[best], "byFormat": rates}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
