#!/usr/bin/env python3
"""PyTorch peer for bench/ml-train.ts: the same models, on the same CPU, in the same run.

Prints one JSON object on stdout. Run with Debian's python (`/usr/bin/python3`), which is where
`apt-get install python3-torch python3-torchvision` puts torch. Exits 3 if torch is absent.
"""
import argparse
import copy
import json
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cnn-batch", type=int, default=64)
    p.add_argument("--cnn-seconds", type=float, default=5.0)
    p.add_argument("--mnv2-batch", type=int, default=16)
    p.add_argument("--mnv2-seconds", type=float, default=10.0)
    p.add_argument("--only", choices=["cnn", "mnv2"], default=None)
    args = p.parse_args()
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        print(json.dumps({"status": "absent"}))
        return 3
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = {"status": "ok", "torch": torch.__version__, "threads": torch.get_num_threads()}

    def timed(fn, warmup, seconds, min_steps=2):
        """Returns (steps per wall second, steps per CPU second of this process, all threads)."""
        for _ in range(warmup):
            fn()
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= seconds and n >= min_steps:
                return n / dt, n / (time.process_time() - c0)

    # PyTorch's CPU convolutions (oneDNN) are much faster on channels-last tensors for MobileNetV2
    # here (e.g. 9.5 vs 6.0 img/s training at 2 threads); each model runs in both layouts and the
    # faster one is the peer's rate, so the comparison is against PyTorch at its best.
    FORMATS = ("contiguous", "channels_last")

    def in_format(model, x, fmt):
        if fmt == "channels_last":
            return model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
        return model, x

    def train_rate(model, x, y, seconds):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        model.train()

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            opt.step()

        wall, cpu = timed(step, 1, seconds)
        return wall * x.shape[0], cpu * x.shape[0]

    def infer_rate(model, x, seconds):
        model.eval()
        with torch.inference_mode():
            wall, cpu = timed(lambda: model(x), 1, seconds)
            return wall * x.shape[0], cpu * x.shape[0]

    if args.only in (None, "cnn"):
        cnn = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10),
        )
        b = args.cnn_batch
        x = torch.randn(b, 1, 28, 28)
        y = torch.randint(0, 10, (b,))
        fmts = {}
        for fmt in FORMATS:
            m, xf = in_format(copy.deepcopy(cnn), x, fmt)
            fmts[fmt] = train_rate(m, xf, y, args.cnn_seconds)
        best = max(FORMATS, key=lambda f: fmts[f][0])
        out["smallCnn"] = {
            "batch": b,
            "memoryFormat": best,
            "trainSamplesPerSec": fmts[best][0],
            "trainSamplesPerCpuSec": fmts[best][1],
            "trainSamplesPerSecByFormat": {f: fmts[f][0] for f in FORMATS},
        }

    if args.only in (None, "mnv2"):
        try:
            from torchvision.models import mobilenet_v2
        except ImportError:
            out["mobilenetV2"] = {"status": "absent (torchvision)"}
        else:
            net = mobilenet_v2(num_classes=1000)
            # Fine-tuning as in bench/ml-train.ts: whole network trainable, a new 10-class head.
            net.classifier[1] = nn.Linear(net.last_channel, 10)
            b = args.mnv2_batch
            x = torch.randn(b, 3, 224, 224)
            y = torch.randint(0, 10, (b,))
            train, infer = {}, {}
            for fmt in FORMATS:
                m, xf = in_format(copy.deepcopy(net), x, fmt)
                train[fmt] = train_rate(m, xf, y, args.mnv2_seconds)
                infer[fmt] = infer_rate(m, xf, args.mnv2_seconds / 2)
            best_train = max(FORMATS, key=lambda f: train[f][0])
            best_infer = max(FORMATS, key=lambda f: infer[f][0])
            out["mobilenetV2"] = {
                "batch": b,
                "memoryFormat": best_train,
                "trainImagesPerSec": train[best_train][0],
                "trainImagesPerCpuSec": train[best_train][1],
                "inferMemoryFormat": best_infer,
                "inferImagesPerSec": infer[best_infer][0],
                "inferImagesPerCpuSec": infer[best_infer][1],
                "trainImagesPerSecByFormat": {f: train[f][0] for f in FORMATS},
                "inferImagesPerSecByFormat": {f: infer[f][0] for f in FORMATS},
            }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
