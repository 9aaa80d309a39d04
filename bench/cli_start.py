"""Time to first answer of the commands, as installed: `--help` of each console script, and one image captioned cold
with a real-size clipgpt-S model (random weights, saved to a folder), each in a fresh process.

The naive baseline, measured in the same run, is the same command run the way it was before the commands had a
chapter of their own: every module a command drives imported before its flags are parsed. For the cold caption the
baseline is the library's code at `--baseline-rev` (default: the commit before the command layer), checked out in a
temporary worktree and run on the same model folder.

Usage: python bench/cli_start.py [--repeat 3] [--baseline-rev d773a12] [--skip-caption]
"""
import argparse, os, platform, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# what each command's module imported at its top before the command layer (the naive way: import, then parse)
DRIVES = {'clipcap-image': 'clipcap.captioner', 'clipcap-video': 'clipcap.video', 'clipcap-dataset': 'clipcap.data',
          'clipcap-train': 'clipcap.train', 'clipcap-eval': 'clipcap.evaluate', 'clipcap-app': 'clipcap.app'}
HEAVY = ('torch', 'transformers', 'matplotlib', 'gradio', 'ray', 'av')

def timed(cmd:list, env=None)->tuple:
    "Wall seconds and the completed process of `cmd`."
    t = time.perf_counter(); r = subprocess.run(cmd, capture_output=True, text=True, env=env); return time.perf_counter() - t, r

def best(cmd:list, repeat:int, env=None)->float:
    times = []
    for _ in range(repeat):
        t, r = timed(cmd, env)
        if r.returncode: sys.exit(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stderr[-2000:]}")
        times.append(t)
    return min(times)

def heavy_imports(name:str)->list:
    r = subprocess.run([sys.executable, '-X', 'importtime', str(BIN / name), '--help'], capture_output=True, text=True)
    return sorted({l.split('|')[-1].strip().split('.')[0] for l in r.stderr.splitlines() if l.startswith('import time:')} & set(HEAVY))

def help_times(repeat:int):
    print(f"{'command --help':<18}{'now (s)':>9}{'naive (s)':>11}{'ratio':>8}  heavy modules imported now")
    for name, module in DRIVES.items():
        func = name.split('-')[1].replace('eval', 'evaluate') + '_cli'
        now = best([str(BIN / name), '--help'], repeat)
        naive = best([sys.executable, '-c', f"import sys, {module}; from clipcap.cli import {func}; sys.exit({func}(['--help']))"], repeat)
        print(f"{name:<18}{now:>9.2f}{naive:>11.2f}{naive / now:>7.1f}×  {', '.join(heavy_imports(name)) or 'none'}")

def cold_caption(repeat:int, rev:str):
    import numpy as np
    from PIL import Image
    from clipcap.model import random_model
    work = Path(tempfile.mkdtemp(prefix='clipcap-bench-'))
    try:
        random_model('clipgpt-S').save_pretrained(work / 'S')
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(work / 'photo.jpg')
        args = [str(work / 'photo.jpg'), '-C', str(work / 'S'), '--no-render', '--max-tokens', '20', '--device', 'cpu']
        now = best([str(BIN / 'clipcap-image'), *args], repeat)
        subprocess.run(['git', '-C', str(ROOT), 'worktree', 'add', '--detach', '-q', str(work / 'before'), rev], check=True)
        # the old code, not the installed package: its path first, and without the editable install's finder
        old = (f"import sys; sys.path.insert(0, {str(work / 'before')!r}); "
               "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
               "from clipcap.captioner import image_cli; assert 'before' in sys.modules['clipcap'].__file__; sys.exit(image_cli())")
        before = best([sys.executable, '-c', old, *args], repeat)
        t_imp = best([sys.executable, '-c', 'import clipcap.captioner, clipcap.checkpoints'], repeat)
        print("\none 640x480 JPEG captioned cold (a fresh process: imports, model load, encode, 20 tokens, print), real-size clipgpt-S:")
        print(f"  now {now:.2f} s; before ({rev}) {before:.2f} s; ratio {before / now:.2f}×  (of which importing the library: {t_imp:.2f} s)")
    finally:
        subprocess.run(['git', '-C', str(ROOT), 'worktree', 'remove', '--force', str(work / 'before')], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--repeat', type=int, default=3); p.add_argument('--baseline-rev', default='d773a12')
    p.add_argument('--skip-caption', action='store_true')
    a = p.parse_args()
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name')), platform.processor())
    print(f"CPU: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}; best of {a.repeat}\n")
    help_times(a.repeat)
    if not a.skip_caption: cold_caption(a.repeat, a.baseline_rev)
