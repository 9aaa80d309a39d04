"""Images per second through the feature store (read, decode, preprocess, encode, write), against
(a) one image at a time through processor and model, as the original's dataset_generation.py did, and
(b) the bare batched model forward on ready tensors. Real CLIP ViT-B/32 size with random weights, on real-size
JPEGs this script writes itself. All figures come from the same run; the ratios are what to compare.

    python bench/feature_store.py [--n 500] [--naive-n 100] [--batch-size 32] [--workers N] [--device cpu]

The store encodes all n images; the one-at-a-time loop and the bare forward are rates, measured on the first
--naive-n images and on --bare-batches batches (before and after the rest, to show drift on a shared machine).
"""
import argparse, tempfile, time
from pathlib import Path
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from clipcap.config import get_config
from clipcap.model import ImageEncoder
from clipcap.tiny import REAL_SIZES
from clipcap.data import build_feature_store


def write_jpegs(d:Path, n:int, size=(640, 480), seed=0)->Path:
    "n photo-like JPEGs (smooth gradients, blurred shapes, sensor noise) and a captions.csv naming them."
    rng = np.random.default_rng(seed)
    (d/'images').mkdir(parents=True, exist_ok=True)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    for i in range(n):
        base = np.stack([rng.uniform(40, 200) + rng.uniform(-80, 80) * (xx if c % 2 else yy) for c in range(3)], -1)
        img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for _ in range(8):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(20, 150)
            draw.ellipse((x - r, y - r, x + r, y + r * rng.uniform(0.5, 1.5)), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        img = img.filter(ImageFilter.GaussianBlur(2))
        a = np.asarray(img, dtype=np.int16) + rng.normal(0, 6, (h, w, 3)).astype(np.int16)
        Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(d/'images'/f'{i:05d}.jpg', quality=90)
    (d/'captions.csv').write_text('image,caption\n' + ''.join(f'{i:05d}.jpg,a picture\n' for i in range(n)))
    return d/'captions.csv'


def bare_forward(enc, batches, bs, device):
    "Images/s of the batched forward on ready pixel tensors."
    px = torch.randn(bs, 3, 224, 224, device=device, dtype=next(enc.parameters()).dtype)
    enc(px)  # warm-up
    if device.type == 'cuda': torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(batches): enc(px)
    if device.type == 'cuda': torch.cuda.synchronize()
    return batches * bs / (time.perf_counter() - t)


def one_at_a_time(enc, paths, device):
    "Images/s reading, preprocessing and encoding each image alone, as the original did."
    t, out = time.perf_counter(), []
    for p in paths:
        img = Image.open(p).convert('RGB')
        px = enc.processor(images=img, return_tensors='pt')['pixel_values']
        out.append(enc(px.to(device)).float().squeeze().cpu().numpy())
    return len(paths) / (time.perf_counter() - t)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--n', type=int, default=500, help='number of JPEGs')
    ap.add_argument('--naive-n', type=int, default=100, help='images for the one-at-a-time rate')
    ap.add_argument('--bare-batches', type=int, default=4, help='batches for each bare-forward rate')
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--workers', type=int, default=None, help='reader processes of the store (default: its own)')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--profile', action='store_true', help='also time read+preprocess alone')
    args = ap.parse_args()
    device = torch.device(args.device)
    d = Path(tempfile.mkdtemp(prefix='bench_store_'))
    t = time.perf_counter(); csv = write_jpegs(d, args.n); print(f'wrote {args.n} JPEGs 640x480 in {time.perf_counter() - t:.1f} s')
    torch.manual_seed(0)
    enc = ImageEncoder.from_config(get_config('clipcap-mlp', clip_config=REAL_SIZES['openai/clip-vit-base-patch32']))
    enc = enc.to(device, torch.float16 if device.type == 'cuda' else torch.float32)
    print(f'ViT-B/32 random weights, {sum(p.numel() for p in enc.parameters()) / 1e6:.1f} M params, device {device}, '
          f'torch threads {torch.get_num_threads()}, batch {args.batch_size}')
    paths = sorted((d/'images').glob('*.jpg'))
    b1 = bare_forward(enc, args.bare_batches, args.batch_size, device); print(f'bare forward: {b1:.1f} img/s', flush=True)
    t = time.perf_counter()
    store = build_feature_store(csv, d/'images', d/'store', encoder=enc, batch_size=args.batch_size, device=device,
                                num_workers=args.workers, save_encoder=False, progress=False)
    store_rate = args.n / (time.perf_counter() - t)
    assert len(store) == args.n and len(store.failed) == 0
    print(f'store: {store_rate:.1f} img/s', flush=True)
    naive = one_at_a_time(enc, paths[:args.naive_n], device); print(f'one at a time: {naive:.1f} img/s', flush=True)
    b2 = bare_forward(enc, args.bare_batches, args.batch_size, device)
    bare = (b1 + b2) / 2
    print(f'(b) bare batched forward : {b1:7.1f} img/s before, {b2:7.1f} img/s after (mean {bare:.1f})')
    print(f'    feature store         : {store_rate:7.1f} img/s  (read, decode, preprocess, encode, write)')
    print(f'(a) one at a time         : {naive:7.1f} img/s  (the original\'s loop)')
    print(f'store / (a) = {store_rate / naive:.2f}x   (target >= 1.5x)')
    print(f'store / (b) = {store_rate / bare:.0%}     (target >= 80%)', flush=True)
    if args.profile:
        from clipcap.image_files import load_image
        t = time.perf_counter()
        for p in paths[:100]: enc.processor(images=[load_image(p)], return_tensors='pt')
        print(f'read+decode+preprocess alone, one process: {100 / (time.perf_counter() - t):.1f} img/s')
