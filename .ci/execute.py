"""Run notebooks top to bottom in a real Jupyter kernel, as a reader does, and keep the executed copies for the docs.

Usage: python .ci/execute.py [--out _exec] [--jobs 2] [--timeout 1200] [--skip NB ...] [NB ...]

Each notebook runs once, with nbclient, in its own `python3` kernel started from `nbs/` (the kernel's default
thread settings: no OMP_NUM_THREADS override), at most `--jobs` at a time, and is stopped (kernel included) after
`--timeout` seconds. The executed copy goes to `--out/NAME.ipynb` even when a cell fails (the error is its last
output), minus run-to-run noise: progress-bar widgets and, on stderr, progress bars, FFmpeg/OpenCV log lines and
third-party libraries' warnings. Prints one
`PASS`/`FAIL` line a notebook with its time, then `N notebooks passed, N failed`; exits 1 when any notebook failed.
"""
import argparse, os, re, signal, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDGET = 'application/vnd.jupyter.widget-view+json'
PROGRESS = re.compile(r'\r|\d+%\|')  # tqdm redraws its bar with '\r'; its text form reads ' 40%|████  | 4/10'
NATIVE_LOG = re.compile(r'^\[[^\]]* @ 0x[0-9a-f]+\]|^\[ ?(WARN|ERROR|INFO):')  # FFmpeg's and OpenCV's own logs (with addresses)
LIB_WARNING = re.compile(r'^\S*/site-packages/\S+:\d+: \w+: ')  # a library's warning, with this machine's path

def quiet_stderr(text:str)->str:
    "stderr without progress bars, FFmpeg/OpenCV log lines and libraries' warnings (each with its source line)."
    keep, skip_source = [], False
    for line in text.splitlines(keepends=True):
        if skip_source and line.startswith(' '): skip_source = False; continue
        skip_source = bool(LIB_WARNING.search(line))
        if not (skip_source or PROGRESS.search(line) or NATIVE_LOG.search(line)): keep.append(line)
    return ''.join(keep)

def quiet_outputs(outputs:list)->list:
    "Drop the outputs that change from run to run without telling anything: widgets, and that noise on stderr."
    keep = []
    for o in outputs:
        if WIDGET in o.get('data', {}): continue
        if o.get('output_type') == 'stream' and keep and keep[-1].get('output_type') == 'stream' and keep[-1].get('name') == o.get('name'):
            keep[-1]['text'] += o['text']; continue  # one stream, written in pieces
        keep.append(o)
    for o in keep:
        if o.get('output_type') == 'stream' and o.get('name') == 'stderr': o['text'] = quiet_stderr(o['text'])
    return [o for o in keep if o.get('output_type') != 'stream' or o['text'].strip()]

def run_one(nb_path:Path, out_path:Path, timeout:int)->str|None:
    "Execute one notebook (in this process's child kernel); write the quiet executed copy; return the error or None."
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    nb = nbformat.read(nb_path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(nb_path.parent)}})
    err = None
    try: client.execute()
    except CellExecutionError as e: err = (re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip().splitlines() or ["a cell failed"])[-1]
    except Exception as e: err = f'{type(e).__name__}: {e}'
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs = quiet_outputs(c.outputs)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f'.{out_path.name}.tmp')
    nbformat.write(nb, tmp)
    os.replace(tmp, out_path)
    return err

def run_isolated(nb:Path, out:Path, timeout:int)->tuple:
    "Run `run_one` in a child process of its own session, so that a timeout stops the kernel with it."
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, __file__, '--single', str(nb), str(out), str(timeout)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        log, _ = p.communicate(timeout=timeout)
        ok = p.returncode == 0
        msg = '' if ok else (log.strip().splitlines() or [f'exit code {p.returncode}'])[-1]
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        ok, msg = False, f'stopped after {timeout} s'
    return nb, ok, msg, time.monotonic() - t0

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks to run (default: every nbs/*.ipynb)')
    ap.add_argument('--out', default='_exec', help='folder for the executed copies (default _exec)')
    ap.add_argument('--jobs', type=int, default=2, help='notebooks at a time (default 2)')
    ap.add_argument('--timeout', type=int, default=1200, help='seconds a notebook may take (default 1200)')
    ap.add_argument('--skip', nargs='*', default=[], help='notebook names to leave out (for a quick local build)')
    a = ap.parse_args(argv)
    nbs = [Path(p).resolve() for p in a.notebooks] or sorted(p for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))
    nbs = [p for p in nbs if p.name not in a.skip and p.stem not in a.skip]
    out = (ROOT / a.out).resolve()
    t0 = time.monotonic()
    # longest first (by size) so that two workers finish together
    order = sorted(nbs, key=lambda p: -p.stat().st_size)
    with ThreadPoolExecutor(max(1, a.jobs)) as ex:
        futs = [ex.submit(run_isolated, nb, out / nb.name, a.timeout) for nb in order]
        results = []
        for f in futs:
            nb, ok, msg, secs = f.result()
            results.append((nb, ok))
            print(f"{'PASS' if ok else 'FAIL'} {nb.name} {secs:.0f} s" + (f": {msg}" if msg else ''), flush=True)
    failed = sum(not ok for _, ok in results)
    print(f"notebooks in a real kernel: {time.monotonic() - t0:.0f} s, {a.jobs} at a time")
    print(f"{len(results) - failed} notebooks passed, {failed} failed")
    return 1 if failed else 0

if __name__ == '__main__':
    if sys.argv[1:2] == ['--single']:
        nb, out, timeout = sys.argv[2:5]
        err = run_one(Path(nb), Path(out), int(timeout))
        if err: print(err); sys.exit(1)
        sys.exit(0)
    sys.exit(main())
