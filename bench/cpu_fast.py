"""Captions per second on a CPU: the exact default against float32 as it was and against each faster choice, in one
run; and how many captions and tokens each faster choice changes.

Real-size clipgpt-S (CLIP ViT-B/32 + mapper + GPT-2 small) with random weights, built offline. End to end means CLIP
on ready 224x224 pixel tensors, the mapper and 20 new tokens per caption (min = max = 20, greedy), so that every run
does the same work. Each configuration is timed `--repeat` times, interleaved with the others, and the best time is
kept, so the ratios hold on a shared machine even when the absolute figures move. CPU time is given beside wall time:
with one thread (`--threads 1`) it is the work done, which other processes on a shared machine disturb far less.

Rows (all on the same model):
- float32 as before: what `set_precision('fp32')` computed before this release: Hugging Face's CLIP forward (every
  token through the last layer) and the same decoding loop (with captions of fixed length no row leaves the batch);
- exact default: `set_precision(None)`: float32's tokens and scores, bit for bit (checked here);
- fast, int8 (asked for by name); bf16 (a copy of the model cast to bfloat16);
- float32 with oneDNN's products (not a clipcap choice; measured to show what limits the exact default): every linear
  layer of CLIP, GPT-2 and its head computed by oneDNN from weights reordered once, instead of MKL's float32 GEMM.
  Float32 too, but other kernels with other last bits, so not exact.

Also: the image encoder alone; finished rows leaving the batch (greedy, 40 tokens, EOS made likelier so that captions
end at different steps, as a trained model's do), against the same decoding with every row kept; agreement with float32
of each choice on real-size random weights and on a trained model (`--model FOLDER --images CAPTIONS.csv`, or the synthetic
shapes model trained here once with the training chapter's recipe, kept in bench/out/, on its 100 held-out images).

Run: python bench/cpu_fast.py [--batch 32] [--repeat 3] [--threads N] [--model FOLDER --images CAPTIONS.csv] [--skip-trained] [--profile]
"""
import argparse, contextlib, copy, platform, re, time, warnings
from pathlib import Path
import torch
import clipcap.generate
from clipcap.core import cpu_flags, precision_plan, BF16_FLAGS, INT8_FLAGS
from clipcap.model import ClipCapModel, random_model
from clipcap.generate import caption_agreement, clean_caption, generate, precision_agreement

OUT = Path(__file__).parent / 'out'
NEW = 20
SHOWN_FLAGS = ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'avx512_fp16', 'amx_tile', 'amx_bf16', 'amx_int8')


def cpu_line()->str:
    "The CPU's model name and the flags that matter here."
    try: name = re.search(r'^model name\s*:\s*(.*)$', Path('/proc/cpuinfo').read_text(), re.M)[1]
    except (OSError, TypeError): name = platform.processor() or platform.machine()
    flags = [f for f in SHOWN_FLAGS if f in cpu_flags()]
    return (f"CPU: {name}; flags: {' '.join(flags) or 'none of ' + ' '.join(SHOWN_FLAGS)}; torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, capability {torch.backends.cpu.get_cpu_capability()}")


@torch.inference_mode()
def caption_batch(model, px, **kw):
    "CLIP → mapper → NEW greedy tokens for a batch of pixel tensors."
    return generate(model, model.encoder(px), **(dict(max_tokens=NEW, min_tokens=NEW) | kw))


def best_times(configs:dict, fn, repeat:int)->dict:
    "Best wall time and best CPU time (s) per configuration (a context manager that sets it up), the configurations interleaved."
    best = {k: (float('inf'), float('inf')) for k in configs}
    for _ in range(repeat):
        for k, setup in configs.items():
            with setup() as m:
                t, c = time.perf_counter(), time.process_time(); fn(m)
                best[k] = (min(best[k][0], time.perf_counter() - t), min(best[k][1], time.process_time() - c))
    return best


def show_times(t:dict, n:int, unit:str, base:str):
    "Per configuration: items a second (wall), and the ratios to `base` of wall time and of CPU time."
    for k, (wall, cpu) in t.items():
        print(f"  {k:38s} {n / wall:7.2f} {unit}/s   {t[base][0] / wall:5.2f}x {base} (wall), {t[base][1] / cpu:5.2f}x (CPU time)")


@contextlib.contextmanager
def as_before(model):
    "float32 as computed before this release: Hugging Face's CLIP forward instead of `clip_pooled`."
    enc, vision = model.encoder, model.encoder.clip.vision_model
    enc.tower = lambda px: vision(pixel_values=px).pooler_output  # clipgpt-S reads pooler_output
    try: yield model.set_precision('fp32')
    finally: del enc.tower


@contextlib.contextmanager
def at(model, precision):
    yield model.set_precision(precision)


class OneDNNLinear(torch.nn.Module):
    "A float32 linear layer computed by oneDNN from its weight [out, in] reordered once."
    def __init__(self, weight, bias):
        super().__init__()
        self.n_out, self.w = weight.shape[0], torch.ops.mkldnn._reorder_linear_weight(weight.detach().contiguous(), None)
        self.weight = weight  # what decoding reads of a head: its size and dtype
        self.b = None if bias is None else bias.detach().contiguous()

    def forward(self, x):
        return torch.ops.mkldnn._linear_pointwise(x.reshape(-1, x.shape[-1]), self.w, self.b, 'none', [], '').view(*x.shape[:-1], self.n_out)


def onednn_copy(model):
    "A float32 copy of `model` whose CLIP, GPT-2 and head linear layers compute with oneDNN (other kernels than MKL's)."
    m = copy.deepcopy(model).set_precision('fp32')
    for parent in [*m.encoder.clip.modules(), *m.gpt.modules()]:
        for name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.Linear): setattr(parent, name, OneDNNLinear(child.weight, child.bias))
            elif type(child).__name__ == 'Conv1D': setattr(parent, name, OneDNNLinear(child.weight.t(), child.bias))
    return m


@contextlib.contextmanager
def all_rows_kept():
    "Inside the block, no finished row leaves a greedy batch."
    saved = clipcap.generate.MIN_ROWS; clipcap.generate.MIN_ROWS = 10 ** 9
    try: yield
    finally: clipcap.generate.MIN_ROWS = saved


@contextlib.contextmanager
def eos_likelier(model, scale:float):
    "EOS's embedding (tied to the head) scaled, so that random weights end captions at different steps; restored after."
    w = model.gpt.transformer.wte.weight
    saved = w[model.eos_token_id].clone()
    with torch.no_grad(): w[model.eos_token_id] *= scale
    try: yield model
    finally:
        with torch.no_grad(): w[model.eos_token_id] = saved


def shapes_model(folder:Path)->tuple:
    "A tiny model trained on the synthetic shapes (the training chapter's recipe), once, into `folder`: its folder and a CSV of its test images."
    if not (folder / 'test.csv').exists():
        from clipcap.data import build_feature_store, make_synthetic_dataset
        from clipcap.model import tiny_model
        from clipcap.tiny import tiny_clip_config
        from clipcap.train import train
        model = tiny_model('clipcap-mlp', image_feature='pooler_output', clip_config=dict(tiny_clip_config(hidden_size=64), patch_size=4),
                           prefix_length=4, standardize=True)
        csv = make_synthetic_dataset(folder / 'data', 1000, 0, colours=('red', 'green', 'blue', 'yellow', 'white'),
                                     shapes=('circle', 'cross'), vary=('colour', 'shape', 'size'))
        store = build_feature_store(csv, csv.parent / 'images', folder / 'store', encoder=model, ratios=(0.8, 0.1, 0.1), progress=False)
        if not (folder / 'run' / 'last').exists():
            train(model, store, folder / 'run', epochs=30, batch_size=32, lr=1e-2, warmup_steps=20, progress=False)
        test = store.images[store.images.split == 'test']
        test.assign(caption=store.captions.groupby('image_idx').caption.first()[test.index])[['image', 'caption']].to_csv(folder / 'test.csv', index=False)
    return folder / 'run' / 'last', folder / 'test.csv'


def captioned_images(model_dir:Path, captions:Path, images_dir:Path, n:int=100)->tuple:
    "The model, the pixel values of the first `n` images a captions file names, and each one's first caption, cleaned."
    from clipcap.data import read_captions
    from clipcap.image_files import load_image
    df = read_captions(captions).drop_duplicates('image').head(n)
    model = ClipCapModel.from_pretrained(model_dir)
    return model, model.encoder.preprocess([load_image(images_dir / name) for name in df.image]), [clean_caption(c) for c in df.caption]


def show_agreement(title, table):
    print(f"\n{title}")
    cols = [c for c in ('captions', 'tokens', 'right') if c in table]
    print(f"  {'precision':12s}" + ''.join(f"{c:>18s}" for c in cols))
    for name, row in table.iterrows(): print(f"  {name:12s}" + ''.join(f"{row[c]:18.1%}" for c in cols))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batch', type=int, default=32, help='images per batch')
    p.add_argument('--repeat', type=int, default=3, help='timed runs per configuration (best kept)')
    p.add_argument('--threads', type=int, default=None, help="torch threads (default: torch's own choice)")
    p.add_argument('--model', type=Path, default=None, help='a trained model folder for the agreement on a trained model (with --images)')
    p.add_argument('--images', type=Path, default=None, help="a captions file (CSV) naming its images, e.g. held-out ones (the first 100)")
    p.add_argument('--images-dir', type=Path, default=None, help="the folder its image names are in (default: 'images' beside it)")
    p.add_argument('--trained-tokens', type=int, default=8, help='most tokens per caption of the trained model')
    p.add_argument('--skip-trained', action='store_true', help='no agreement on a trained model')
    p.add_argument('--profile', action='store_true', help='profile one batch of the exact default and print the top operators')
    args = p.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    print(cpu_line())
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); int8_plan = precision_plan('cpu', 'int8', sizes=dict(encoder=10**8, head=10**8))
    print(f"default plan (every CPU): {precision_plan('cpu')}\nint8 plan here: {int8_plan}"
          f" (bfloat16 instructions {sorted(set(BF16_FLAGS) & cpu_flags()) or 'none'}, int8 ones {sorted(set(INT8_FLAGS) & cpu_flags()) or 'none'})"
          + (f"; warns: {w[0].message}" if w else ''))
    torch.manual_seed(0)
    model = random_model('clipgpt-S')
    bf16 = copy.deepcopy(model).set_precision('bf16')
    onednn = onednn_copy(model)
    px = torch.randn(args.batch, 3, 224, 224)
    for m in (model, bf16, onednn): caption_batch(m.set_precision(m.precision), px[:2])  # warm up
    t0 = time.perf_counter(); caption_batch(model.set_precision('int8'), px[:2])
    print(f"int8 copy of the decoder's blocks (once per model): {time.perf_counter() - t0:.1f} s")

    with as_before(model) as m: before = caption_batch(m, px)
    exact = caption_batch(model.set_precision(None), px)
    print(f"\nexact default against float32 as before, batch {args.batch}: tokens identical {exact.tokens == before.tokens}, "
          f"scores bit for bit {exact.scores == before.scores}")

    enc_px = px[:32]
    t = best_times({'float32 as before': lambda: as_before(model), 'exact default': lambda: at(model, None),
                    'fast': lambda: at(model, 'fast')}, lambda m: m.encoder(enc_px), args.repeat)
    print("\nimage encoder alone, batch 32 (what dominates the feature store):")
    show_times(t, 32, 'images', 'float32 as before')

    configs = {'float32 as before': lambda: as_before(model), 'exact default': lambda: at(model, None),
               'fast': lambda: at(model, 'fast'), 'int8': lambda: at(model, 'int8'), 'bf16': lambda: at(bf16, 'bf16'),
               'float32, oneDNN products (not exact)': lambda: at(onednn, 'fp32')}
    t = best_times(configs, lambda m: caption_batch(m, px), args.repeat)
    print(f"\nend to end (CLIP + mapper + {NEW} tokens), batch {args.batch}:")
    show_times(t, args.batch, 'captions', 'float32 as before')

    with eos_likelier(model.set_precision(None), 3.0):
        feats = model.encoder(px)
        with all_rows_kept(): kept = generate(model, feats, max_tokens=40)
        dropped = generate(model, feats, max_tokens=40)
        lengths = sorted(map(len, dropped.tokens))
        t = best_times({'every row kept': all_rows_kept, 'finished rows leave': contextlib.nullcontext},
                       lambda _: generate(model, feats, max_tokens=40), args.repeat)
    print(f"\ngreedy decoding, batch {args.batch}, up to 40 tokens, captions of {lengths[0]} to {lengths[-1]} tokens "
          f"(median {lengths[len(lengths) // 2]}); tokens identical {kept.tokens == dropped.tokens}, scores bit for bit {kept.scores == dropped.scores}:")
    show_times(t, args.batch, 'captions', 'every row kept')

    table = precision_agreement(model, px, choices=(None, 'fast', 'int8', 'bf16'), max_tokens=NEW, min_tokens=NEW)
    with torch.inference_mode(): table.loc['fp32, oneDNN'] = caption_agreement(caption_batch(model.set_precision('fp32'), px), caption_batch(onednn, px))
    show_agreement(f"agreement with float32, real-size clipgpt-S, random weights, {args.batch} images, {NEW} greedy tokens each:", table)

    if not args.skip_trained:
        model_dir, captions = (args.model, args.images) if args.model else shapes_model(OUT / 'shapes_model')
        images_dir = args.images_dir or (captions.parent / 'data' / 'images' if not args.model else captions.parent / 'images')
        trained, tpx, refs = captioned_images(model_dir, captions, images_dir)
        table = precision_agreement(trained, tpx, choices=(None, 'fast', 'int8', 'bf16'), references=refs, max_tokens=args.trained_tokens)
        show_agreement(f"agreement with float32, trained model {model_dir} ({len(refs)} images of {captions.name}, greedy, "
                       f"up to {args.trained_tokens} tokens; right: the caption exactly the reference):", table)

    if args.profile:
        from torch.profiler import profile, ProfilerActivity
        model.set_precision(None)
        with profile(activities=[ProfilerActivity.CPU]) as prof: caption_batch(model, px)
        print(f"\nprofile, exact default, batch {args.batch}:")
        print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=15))


if __name__ == '__main__':
    main()
