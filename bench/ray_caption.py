"""Images per second captioned through Ray Data (`clipcap.distributed.caption_corpus`) with one and with two actors,
against the single-process `Captioner` on the same corpus, in one run. Real-size S architecture (CLIP ViT-B/32 and
GPT-2) with random weights, saved to a folder that every actor loads; photo-like JPEGs this script writes itself.

    python bench/ray_caption.py [--n 64] [--shard-size 16] [--batch-size 16] [--max-new-tokens 12]

Every path loads the model and captions all n images; each rate is n / wall time, model loading included (the
actors load theirs in parallel). Each actor takes one CPU (Ray gives it one thread); the single-process Captioner
runs with one torch thread too, so "one actor per core" is compared with one process on one core. The Ray cluster's
start is timed apart and not counted.
"""
import argparse, os, platform, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
from PIL import Image
from clipcap.model import random_model
from clipcap.captioner import Captioner
from clipcap.distributed import RayPool, connect, caption_corpus, show_progress


def write_jpegs(d:Path, n:int, size=(320, 240), seed=0)->list:
    "n photo-like JPEGs (smooth gradients and noise)."
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    for i in range(n):
        base = np.stack([rng.uniform(40, 200) + rng.uniform(-80, 80) * (xx if c % 2 else yy) for c in range(3)], -1)
        a = base + rng.normal(0, 6, (h, w, 3))
        Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(d/f'{i:05d}.jpg', quality=90)
    return sorted(str(p) for p in d.glob('*.jpg'))


def cpu_name()->str:
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()


def load_average()->str:
    try: return ' '.join(open('/proc/loadavg').read().split()[:3])
    except OSError: return 'n/a'


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--n', type=int, default=64, help='images in the corpus')
    ap.add_argument('--shard-size', type=int, default=16, help='images a shard (a task of an actor)')
    ap.add_argument('--batch-size', type=int, default=16)
    ap.add_argument('--max-new-tokens', type=int, default=12)
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    print(f'CPU: {cpu_name()}, {cores} cores available, load average {load_average()} (before)')
    d = Path(tempfile.mkdtemp(prefix='bench_ray_'))
    paths = write_jpegs(d/'images', args.n)
    t = time.perf_counter(); random_model('S').save_pretrained(d/'S'); print(f'saved S (random weights) in {time.perf_counter() - t:.1f} s')
    decode = dict(max_tokens=args.max_new_tokens, greedy=True)
    print(f'{args.n} JPEGs 320x240, batch {args.batch_size}, {args.max_new_tokens} new tokens greedy, shards of {args.shard_size}, fp32 CPU')

    torch.set_num_threads(1)
    t = time.perf_counter()
    cap = Captioner(str(d/'S'), device='cpu', batch_size=args.batch_size, **decode)
    load = time.perf_counter() - t
    t = time.perf_counter(); ref = cap.caption_results(paths, expand=False); work = time.perf_counter() - t
    single = args.n / (load + work)
    print(f'single process, 1 thread: {single:.2f} img/s ({load + work:.1f} s: model load {load:.1f} s, captioning {work:.1f} s)', flush=True)
    del cap

    t = time.perf_counter(); ray = connect(num_cpus=cores); show_progress(False)
    print(f'Ray cluster start: {time.perf_counter() - t:.1f} s (not counted)', flush=True)
    wall, busy = {}, {}
    for actors in (1, 2):
        t = time.perf_counter()
        run = caption_corpus(paths, d/f'ray{actors}', d/'S', shard_size=args.shard_size, pool=RayPool(actors=actors), batch_size=args.batch_size,
                             device='cpu', progress=False, **decode)
        wall[actors] = time.perf_counter() - t
        assert run.complete and run.n_failed == 0
        assert list(run.read().caption) == [r.caption for r in ref], 'Ray captions differ from the single-process ones'
        per_actor = {}
        for task in run.tasks: per_actor[task['actor']] = per_actor.get(task['actor'], 0) + task['seconds']
        busy[actors] = max(per_actor.values())  # the busiest actor's time in its shards
        print(f'Ray, {actors} actor(s): {args.n / wall[actors]:.2f} img/s ({wall[actors]:.1f} s; shards per actor '
              f'{sorted(sum(t["actor"] == a for t in run.tasks) for a in per_actor)}, busiest actor captioning {busy[actors]:.1f} s)', flush=True)
    ray.shutdown()
    t = time.perf_counter(); subprocess.run([sys.executable, '-c', 'import clipcap.distributed'], check=True)
    imports = time.perf_counter() - t

    r1, r2 = args.n / wall[1], args.n / wall[2]
    print('\nend to end (model loading included, cluster start not):')
    print(f'  single process (1 thread) : {single:6.2f} img/s')
    print(f'  Ray, 1 actor              : {r1:6.2f} img/s = {r1 / single:.0%} of single process (target >= 90%)')
    print(f'  Ray, 2 actors             : {r2:6.2f} img/s = {r2 / r1:.2f}x one actor (target >= 1.6x with 2 free cores)')
    print('steady state (time inside the actors\' shards, against the single process\'s captioning):')
    print(f'  Ray, 1 actor              : {args.n / busy[1]:6.2f} img/s = {work / busy[1]:.0%} of single process ({args.n / work:.2f} img/s)')
    print(f'  Ray, 2 actors             : {args.n / busy[2]:6.2f} img/s = {busy[1] / busy[2]:.2f}x one actor')
    print(f'Ray overhead: {(busy[1] - work) / args.n * 1000:+.0f} ms an image in the actor (Parquet writing, task hand-off), '
          f'plus {wall[1] - busy[1] - load:+.1f} s a run over the single process\'s model load (actor start, imports, scheduling)')
    print(f'  of which: a fresh Python importing clipcap (torch, transformers) takes {imports:.1f} s here; the model load {load:.1f} s')
    print(f'load average (after): {load_average()}; captions identical across the three paths')
