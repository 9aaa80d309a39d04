"""Build the docs site offline into `_docs/`, from notebooks executed in a real kernel; then write README.md.

Usage: python .ci/docs.py [--executed DIR] [--check] [--skip NB ...]

1. Execute every notebook in `nbs/` once, in a Jupyter kernel (`.ci/execute.py`, 2 at a time), unless `--executed`
   names a folder that already holds the executed copies (as `.ci/run` does, so that CI runs each notebook once).
   The pages show what a reader who runs the notebook sees: figures, printed results, n-best lists. Outputs are
   made at build time, never committed, so they cannot go stale and the notebooks stay clean in git.
2. nbdev's notebook processing (what `nbdev_docs` runs before Quarto: show_doc cells, hidden/exported cells,
   cross-reference links), called directly: `nbdev_proc_nbs` would try to install Quarto with sudo and re-run
   `pip install -e .[dev]`, and a docs build installs nothing.
3. Pages are named as nbdev's links name them (`04_model.ipynb` -> `model.html`, the `output-file` nbdev gives
   Quarto; smalldocs does not read it, so the processed notebook takes that name); the links are
   made relative (`model.html#clipcapmodel`) so that the site works from disk and under `doc_host`/`doc_baseurl`.
   Signature blocks keep plain code: no markdown links inside them, no `NoneType` guessed from a `None` default,
   `*args`/`**kwargs` as written.
4. smalldocs renders `_proc/` into `_docs/`; `.ci/readme.py` writes README.md (`--check`: fail if it is stale).
"""
import argparse, json, os, re, shutil, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, PROC, DOCS = ROOT / 'nbs', ROOT / '_proc', ROOT / '_docs'

def page_name(nb:str)->str:
    "The page a notebook becomes, named as nbdev's doc links name it: '04_model.ipynb' -> 'model.ipynb'."
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb.lower())

def site_url()->str:
    from nbdev.config import get_config
    cfg = get_config()
    return cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/') + '/'

FENCE = re.compile(r'(^```[^\n]*\n)(.*?)(^```)', re.S | re.M)
MD_LINK = re.compile(r'\[(`[^`\]]+`)\]\([^)\s]*\)')

def plain_code(md:str)->str:
    "In fenced code (show_doc's signatures): links back to `names`, no type guessed from a None default, no blank edges."
    def fix(m):
        code = MD_LINK.sub(r'\1', m.group(2))
        code = re.sub(r'(\w):NoneType=None\b', r'\1=None', code)
        code = re.sub(r'\b(\w+):VAR_POSITIONAL\b', r'*\1', code)  # docments' kind of *args / **kwargs
        code = re.sub(r'\b(\w+):VAR_KEYWORD\b', r'**\1', code)
        return m.group(1) + code.strip('\n') + '\n' + m.group(3)
    return FENCE.sub(fix, md)

def relative_links(text:str, base:str)->str:
    "Links into this site ('https://host/base/model.html#x') made relative ('model.html#x')."
    return re.sub(r'\]\(' + re.escape(base), '](', text)

def add_links(cell):
    "nbdev's `add_links`, but fence-aware in outputs too (its own links names inside show_doc's signature code)."
    from nbdev.doclinks import NbdevLookup
    nl = NbdevLookup()
    if cell.cell_type == 'markdown': cell.source = nl.linkify(cell.source)
    for o in cell.get('outputs', []):
        md = o.get('data', {}).get('text/markdown')
        if md is not None: o['data']['text/markdown'] = nl.linkify(''.join(md))

def mixed_imports(cell)->str|None:
    "The import statements of a code cell that also does other things (nbdev would run the whole cell), else None."
    import ast
    try: tree = ast.parse(cell.source)
    except SyntaxError: return None
    imps = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return '\n'.join(map(ast.unparse, imps)) if imps and len(imps) < len(tree.body) else None

def process(src:str, dst:str, base:str):
    "nbdev's processing of one notebook (in the notebook's folder, as nbdev_proc_nbs does), then our link fixes."
    os.environ['IN_TEST'] = '1'
    os.chdir(NBS)
    from execnb.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults, NBProcessor
    import nbdev.processors as P

    class exec_show_docs(P.exec_show_docs):
        "nbdev's, but a demonstration cell that also imports keeps its real output: only its imports run here."
        def __call__(self, cell):
            imps = mixed_imports(cell) if cell.cell_type == 'code' and not cell.directives_ else None
            if imps and hasattr(self, 'k'): self.k.run_cell(imps)
            else: super().__call__(cell)

    swap = {P.add_links: add_links, P.exec_show_docs: exec_show_docs}
    nb = read_nb(src)
    NBProcessor(nb=nb, procs=[swap.get(p, p) for p in FilterDefaults().procs()]).process()
    first = nb.cells[0] if nb.cells else None
    if first is not None and first.cell_type == 'raw':  # the front matter: its output-file is this page's name
        want = f'output-file: {Path(dst).with_suffix(".html").name}\n'
        if 'output-file:' in first.source and want not in first.source:
            raise ValueError(f'{src}: nbdev names its page otherwise: {first.source}')
        first.source = first.source.replace(want, '')
    for c in nb.cells:
        if c.cell_type == 'markdown': c.source = relative_links(c.source, base)
        for o in c.get('outputs', []):
            md = o.get('data', {}).get('text/markdown')
            if md is not None: o['data']['text/markdown'] = relative_links(plain_code(''.join(md)), base)
    write_nb(nb, dst)

SYM_LINK = re.compile(r'\[(`[^`\]]+`(?:\(\))?)\]\(([\w.-]+\.html)#([^)\s]+)\)')

def unlink_undocumented(proc:Path):
    "Links to a symbol that no page documents (a private helper, a method not shown) become plain `code`."
    nbs = {p: json.loads(p.read_text()) for p in proc.glob('*.ipynb')}
    def outputs(nb): return [o for c in nb['cells'] for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {})]
    def text(x): return ''.join(x)
    shown = {p.with_suffix('.html').name: {m.lower() for o in outputs(nb)
             for m in re.findall(r'^#+ (\S+)\s*$', text(o['data']['text/markdown']), re.M)} for p, nb in nbs.items()}
    def fix(m): return m.group(0) if m.group(3) in shown.get(m.group(2), ()) else m.group(1)
    for p, nb in nbs.items():
        for c in nb['cells']:
            if c['cell_type'] == 'markdown': c['source'] = SYM_LINK.sub(fix, text(c['source']))
        for o in outputs(nb): o['data']['text/markdown'] = SYM_LINK.sub(fix, text(o['data']['text/markdown']))
        p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

def sidebar(src:Path)->str:
    "nbs/sidebar.yml with each notebook under its page's name."
    return re.sub(r'(\S+\.ipynb)', lambda m: page_name(m.group(1)), src.read_text())

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--executed', help='folder of already executed notebooks (default: execute them now into _exec)')
    ap.add_argument('--check', action='store_true', help='fail when README.md is out of date or a notebook did not run')
    ap.add_argument('--skip', nargs='*', default=[], help='notebooks not to execute (rendered without outputs)')
    a = ap.parse_args(argv)
    failed = False
    executed = Path(a.executed).resolve() if a.executed else ROOT / '_exec'
    if not a.executed:
        shutil.rmtree(executed, ignore_errors=True)
        r = subprocess.run([sys.executable, str(ROOT / '.ci/execute.py'), '--out', str(executed), '--skip', *a.skip], cwd=ROOT)
        failed = r.returncode != 0
    shutil.rmtree(PROC, ignore_errors=True); shutil.rmtree(DOCS, ignore_errors=True)
    PROC.mkdir()
    for f in ('_quarto.yml', 'nbdev.yml', 'styles.css'): shutil.copy(NBS / f, PROC / f)
    if (NBS / 'images').is_dir(): shutil.copytree(NBS / 'images', PROC / 'images')  # pictures the chapters link to
    (PROC / 'sidebar.yml').write_text(sidebar(NBS / 'sidebar.yml'))
    base, jobs, broken = site_url(), [], False
    for nb in sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith(('_', '.'))):  # as nbdev skips them
        src = executed / nb.name
        if not src.exists():
            print(f'docs: {nb.name} was not executed: its page has no outputs', file=sys.stderr)
            src, failed = nb, True
        jobs.append((str(src), str(PROC / page_name(nb.name)), base))
    def run(job):  # each notebook in a fresh interpreter, as nbdev_proc_nbs does
        return subprocess.run([sys.executable, __file__, '--process', *job], cwd=ROOT, capture_output=True, text=True)
    with ThreadPoolExecutor(2) as ex:
        for job, r in zip(jobs, ex.map(run, jobs)):
            if r.returncode:
                print(f'docs: processing {Path(job[0]).name} failed:\n{r.stderr[-3000:]}', file=sys.stderr); broken = True
    unlink_undocumented(PROC)
    r = subprocess.run(['smalldocs', 'render', '--quiet', '--strict', str(PROC)], cwd=ROOT)
    if (PROC / '_docs').exists(): shutil.move(PROC / '_docs', DOCS)
    if (NBS / 'images').is_dir() and DOCS.is_dir() and not (DOCS / 'images').exists(): shutil.copytree(NBS / 'images', DOCS / 'images')
    if r.returncode or broken: return r.returncode or 1  # --strict: a warning (a broken link, an unread option) fails
    r = subprocess.run([sys.executable, str(ROOT / '.ci/readme.py'), *(['--check'] if a.check else [])], cwd=ROOT)
    return 1 if (r.returncode or (a.check and failed)) else 0

if __name__ == '__main__':
    if sys.argv[1:2] == ['--process']: process(*sys.argv[2:5])
    else: sys.exit(main())
