"""Training throughput at the real S-size architecture: clipcap.train.train vs a plain loop of the original's kind.

Both train random_model('clipgpt-S', with_encoder=False) (ViT-B/32-width 768-d features, GPT-2 small, mapper + the
ends of GPT-2 trainable) on the same stored features with the same batch size, in the same process, alternating.
The plain loop is the original's: Adam over all parameters, fp16 autocast + GradScaler (only on a GPU), grad-norm
clipping 1.3, no accumulation, no fusion. clipcap.train uses fused AdamW over the trainable parameters and bf16 on
GPUs that support it. Samples/s covers the optimizer steps only (not the checkpoint writes at the end of an epoch).
The machine may be shared, so only the ratio measured within one run means anything.

    python bench/train.py [--batch 16] [--steps 6] [--rounds 2]
"""
import argparse, shutil, tempfile, time, warnings
from pathlib import Path
import numpy as np, torch
from PIL import Image
from clipcap.model import random_model
from clipcap.data import build_feature_store, CaptionDataset, collate_captions
from clipcap.train import train

def plain_loop(model, store, batch, steps, seed=100):
    "The original's loop (model/trainer.py): Adam, autocast + GradScaler, clip 1.3, one batch per step."
    torch.manual_seed(seed)
    cuda = torch.cuda.is_available()
    dev = 'cuda' if cuda else 'cpu'
    model.to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler(dev, enabled=cuda)
    loader = torch.utils.data.DataLoader(CaptionDataset(store, model.tokenizer, 'train'), batch_size=batch, shuffle=True,
                                         collate_fn=collate_captions, drop_last=True)
    t0, n = time.perf_counter(), 0
    for i, b in enumerate(loader):
        if i == steps: break
        with torch.autocast(dev, dtype=torch.float16, enabled=cuda):
            loss = model(**{k: v.to(dev) for k, v in b.items()}).loss
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.3)
        scaler.step(opt); scaler.update(); opt.zero_grad()
        n += len(b['input_ids'])
    if cuda: torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)

def ours(model, store, batch, steps, out):
    t = train(model, store, out, epochs=1, batch_size=batch, lr=1e-4, warmup_steps=0, grad_clip=1.3, num_samples=0, log_every=steps,
                progress=False)
    return t.state.logs['epochs'][0]['samples_per_s']

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--batch', type=int, default=64 if torch.cuda.is_available() else 16)
    ap.add_argument('--steps', type=int, default=6, help='optimizer steps per measurement (one epoch of clipcap.train)')
    ap.add_argument('--rounds', type=int, default=2)
    a = ap.parse_args()
    warnings.filterwarnings('ignore')
    tmp = Path(tempfile.mkdtemp())
    try:
        n = a.batch * a.steps  # one epoch of training captions = `steps` optimizer steps
        rng = np.random.default_rng(0)
        (tmp / 'img').mkdir()
        lines = ['image_name| comment_number| comment']
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp / 'img' / f'{i}.png')
            lines.append(f"{i}.png| 0| a photo of a red circle next to a blue square on a table with two cats")
        (tmp / 'results.csv').write_text('\n'.join(lines) + '\n')
        enc_model = random_model('clipgpt-S', with_encoder=True)
        store = build_feature_store(tmp / 'results.csv', tmp / 'img', tmp / 'store', encoder=enc_model, ratios=(1.0, 0.0, 0.0),
                                    batch_size=32, progress=False)
        del enc_model
        print(f"device {'cuda' if torch.cuda.is_available() else 'cpu'}, batch {a.batch}, {a.steps} steps per measurement, "
              f"{store.embeddings.shape[1]}-d features")
        res = {'plain': [], 'clipcap.train': []}
        for r in range(a.rounds):
            m = random_model('clipgpt-S', with_encoder=False)
            res['plain'].append(plain_loop(m, store, a.batch, a.steps)); del m
            m = random_model('clipgpt-S', with_encoder=False)
            res['clipcap.train'].append(ours(m, store, a.batch, a.steps, tmp / f'run{r}')); del m
            shutil.rmtree(tmp / f'run{r}', ignore_errors=True)
            print(f"round {r + 1}: plain {res['plain'][-1]:.2f} samples/s, clipcap.train {res['clipcap.train'][-1]:.2f} samples/s")
        p, o = np.median(res['plain']), np.median(res['clipcap.train'])
        print(f"median: plain {p:.2f} samples/s, clipcap.train {o:.2f} samples/s, ratio {o / p:.2f}x")
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
