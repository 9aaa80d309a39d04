"""Captions per second on a CPU: float32 against the automatic fast path (`clipcap.core.precision_plan`), same run.

Real-size clipgpt-S (CLIP ViT-B/32 + mapper + GPT-2 small) with random weights, built offline. End to end means
CLIP on ready 224x224 pixel tensors, the mapper and 20 new tokens per caption (min = max = 20, greedy), so that
every run does the same work. Each configuration is timed `--repeat` times, interleaved with the others, and the
best time is kept, so the ratios hold on a shared machine even when the absolute figures move.

Rows:
- float32: `set_precision('fp32')`, the plain float32 path;
- automatic: `set_precision(None)`, what this CPU gets (bfloat16 CLIP and LM head where the CPU has AVX-512 BF16
  or AMX, fused GELU everywhere);
- as without bf16: the automatic choice a CPU without those flags would make (fused GELU only, float32), measured
  here so that "no slower than float32 without bf16" is checked on this machine too;
- int8 (asked for by name, `set_precision('int8')`): the automatic choice with the decoder's blocks in int8 (torchao's
  dynamic int8: int8 weights per channel, activations per token), here and as without bf16. The one-time copy of
  the blocks into int8 is timed apart.

Also: the image encoder alone (images/s, the part that dominates the feature store), the feature store itself on
small JPEGs (`--store-n`), and agreement on real-size random weights: the largest relative logit difference of
the fast path (teacher-forced on float32's greedy tokens) and the fraction of greedy tokens that agree.

Run: python bench/cpu_fast.py [--batches 32 64] [--repeat 2] [--threads N] [--store-n 64] [--profile]
"""
import argparse, platform, re, tempfile, time
from pathlib import Path
import numpy as np
import torch
from PIL import Image
import clipcap.core
import warnings
from clipcap.core import cpu_flags, precision_plan, BF16_FLAGS, INT8_FLAGS
from clipcap.model import random_model
from clipcap.generate import generate, fast_decoding
from clipcap.data import build_feature_store

NEW = 20
SHOWN_FLAGS = ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'avx512_fp16', 'amx_tile', 'amx_bf16', 'amx_int8')


def cpu_line()->str:
    "The CPU's model name and the flags that matter here."
    try: name = re.search(r'^model name\s*:\s*(.*)$', Path('/proc/cpuinfo').read_text(), re.M)[1]
    except (OSError, TypeError): name = platform.processor() or platform.machine()
    flags = [f for f in SHOWN_FLAGS if f in cpu_flags()]
    return (f"CPU: {name}; flags: {' '.join(flags) or 'none of ' + ' '.join(SHOWN_FLAGS)}; torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, capability {torch.backends.cpu.get_cpu_capability()}")


class no_bf16_flags:
    "Inside the block, `precision_plan` sees a CPU without bfloat16 flags."
    def __enter__(self): self.saved = clipcap.core.cpu_flags; clipcap.core.cpu_flags = lambda *a: frozenset()
    def __exit__(self, *a): clipcap.core.cpu_flags = self.saved


@torch.inference_mode()
def caption_batch(model, px):
    "CLIP → mapper → 20 greedy tokens for a batch of pixel tensors."
    return generate(model, model.encoder(px), max_tokens=NEW, min_tokens=NEW, greedy=True)


def best_times(configs:dict, fn, repeat:int)->dict:
    "Best wall time per configuration, the configurations interleaved."
    best = {k: float('inf') for k in configs}
    for _ in range(repeat):
        for k, setup in configs.items():
            with setup():
                t = time.perf_counter(); fn(); best[k] = min(best[k], time.perf_counter() - t)
    return best


@torch.inference_mode()
def agreement(model, px, precision=None):
    "Largest relative logit difference (`precision` vs float32, teacher-forced on float32's tokens) and greedy token agreement."
    model.set_precision('fp32')
    f32_feats = model.encoder(px)
    ref = generate(model, f32_feats, max_tokens=NEW, min_tokens=NEW, greedy=True)
    ids = torch.tensor(ref.tokens)
    a = model(f32_feats, ids).logits
    model.set_precision(precision)
    with fast_decoding(model): b = model(model.encoder(px), ids).logits
    fast = generate(model, model.encoder(px), max_tokens=NEW, min_tokens=NEW, greedy=True)
    rel = ((a - b).abs().amax(-1) / a.abs().amax(-1)).max().item()
    same = np.mean([x == y for r, f in zip(ref.tokens, fast.tokens) for x, y in zip(r, f)])
    first = np.mean([r[0] == f[0] for r, f in zip(ref.tokens, fast.tokens)])
    whole = np.mean([r == f for r, f in zip(ref.tokens, fast.tokens)])
    return rel, same, first, whole


def write_jpegs(d:Path, n:int)->Path:
    "n 640x480 noise-and-gradient JPEGs and a captions.csv naming them."
    rng = np.random.default_rng(0)
    (d / 'images').mkdir(parents=True, exist_ok=True)
    for i in range(n):
        a = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) // 4 + np.linspace(0, 190, 640, dtype=np.uint8)[None, :, None]
        Image.fromarray(a).save(d / 'images' / f'{i:05d}.jpg', quality=90)
    (d / 'captions.csv').write_text('image,caption\n' + ''.join(f'{i:05d}.jpg,a picture\n' for i in range(n)))
    return d / 'captions.csv'


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batches', type=int, nargs='+', default=[32, 64], help='decode batch sizes')
    p.add_argument('--repeat', type=int, default=2, help='timed runs per configuration (best kept)')
    p.add_argument('--threads', type=int, default=None, help="torch threads (default: torch's own choice)")
    p.add_argument('--store-n', type=int, default=64, help='JPEGs for the feature-store rate (0: skip)')
    p.add_argument('--profile', action='store_true', help='profile one batch, automatic and int8, and print the top operators')
    args = p.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    print(cpu_line())
    print(f"automatic choice here: {precision_plan('cpu', sizes=dict(encoder=10**8, head=10**8))}")
    print(f"  why: bfloat16 instructions ({' or '.join(BF16_FLAGS)}): {sorted(set(BF16_FLAGS) & cpu_flags()) or 'none'} -> "
          f"{'bfloat16 CLIP and LM head' if set(BF16_FLAGS) & cpu_flags() else 'float32 everywhere, fused GELU'}")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); int8_plan = precision_plan('cpu', 'int8', sizes=dict(encoder=10**8, head=10**8))
    print(f"int8 asked for by name: {int8_plan}")
    print(f"  why: int8 dot-product instructions ({' or '.join(INT8_FLAGS)}): {sorted(set(INT8_FLAGS) & cpu_flags()) or 'none'} -> "
          + (f"precision_plan warns: {w[0].message}" if w else "int8 decoder blocks, no warning"))
    torch.manual_seed(0)
    model = random_model('clipgpt-S')
    def at(precision, no_bf16=False):
        class setup:
            def __enter__(s):
                s.ctx = no_bf16_flags() if no_bf16 else None
                if s.ctx: s.ctx.__enter__()
                model.set_precision(precision)
            def __exit__(s, *a):
                if s.ctx: s.ctx.__exit__(*a)
        return setup
    configs = {'float32': at('fp32'), 'automatic': at(None), 'as without bf16': at(None, no_bf16=True)}
    int8 = {'int8': at('int8'), 'int8 without bf16': at('int8', no_bf16=True)}
    px_all = torch.randn(max(args.batches), 3, 224, 224)
    caption_batch(model.set_precision(None), px_all[:2]); caption_batch(model.set_precision('fp32'), px_all[:2])  # warm up
    t0 = time.perf_counter(); caption_batch(model.set_precision('int8'), px_all[:2])
    print(f"int8 copy of the decoder's blocks (once per model): {time.perf_counter() - t0:.1f} s")

    enc_px = px_all[:32]
    t = best_times(configs, lambda: model.encoder(enc_px), args.repeat)
    print("\nimage encoder alone, batch 32 (what dominates the feature store):")
    for k, v in t.items(): print(f"  {k:16s} {32 / v:7.2f} images/s   {t['float32'] / v:5.2f}x float32")

    for bs in args.batches:
        px = px_all[:bs]
        t = best_times(configs | int8, lambda: caption_batch(model, px), args.repeat)
        print(f"\nend to end (CLIP + mapper + {NEW} tokens), batch {bs}:")
        for k, v in t.items(): print(f"  {k:16s} {bs / v:7.2f} captions/s   {t['float32'] / v:5.2f}x float32")

    print("\nagreement with float32 at real size, random weights, 32 images (relative logit difference: "
          "max |x - fp32| / max |fp32| per row, teacher-forced on float32's tokens):")
    for name, precision in (('automatic', None), ('int8', 'int8')):
        rel, same, first, whole = agreement(model, px_all[:32], precision)
        print(f"  {name:16s} largest relative logit difference {rel:.2e}; greedy tokens equal at {same:.1%} of "
              f"positions ({first:.0%} of first tokens, {whole:.0%} of whole captions)")

    if args.store_n:
        d = Path(tempfile.mkdtemp(prefix='bench_cpu_fast_'))
        csv = write_jpegs(d, args.store_n)
        rates = {}
        for k, dtype in (('float32', 'fp32'), ('automatic', None), ('float32 again', 'fp32'), ('automatic again', None)):
            model.set_precision(dtype)
            t0 = time.perf_counter()
            build_feature_store(csv, d / 'images', d / f'store-{k}', encoder=model, batch_size=32, device='cpu', dtype=dtype,
                                num_workers=0, save_encoder=False, progress=False)
            rates[k] = args.store_n / (time.perf_counter() - t0)
        f32, auto = max(rates['float32'], rates['float32 again']), max(rates['automatic'], rates['automatic again'])
        print(f"\nfeature store ({args.store_n} JPEGs 640x480, read + preprocess + encode + write, batch 32, best of 2):")
        print(f"  float32          {f32:7.2f} images/s\n  automatic        {auto:7.2f} images/s   {auto / f32:5.2f}x float32")

    if args.profile:
        from torch.profiler import profile, ProfilerActivity
        for precision in (None, 'int8'):
            model.set_precision(precision)
            with profile(activities=[ProfilerActivity.CPU]) as prof: caption_batch(model, px_all[:32])
            print(f"\nprofile, {precision or 'automatic'}, batch 32:")
            print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=15))


if __name__ == '__main__':
    main()
