"""Write README.md from nbs/index.ipynb without Quarto (what `nbdev_readme` does with it).

Usage: python .ci/readme.py [--check]

--check: exit 1 if README.md is out of date, or if one of its Python examples fails. The examples run as written,
one after the other in one fresh interpreter, in a scratch folder that holds what they name: tiny random-weight
models standing in for the released ones (in a `CLIPCAP_CACHE` of their own, so nothing is downloaded), a short
synthetic `holiday.mp4` and a `photos/` folder.
"""
import os, re, subprocess, sys, tempfile
from pathlib import Path
from execnb.nbio import read_nb

def cell_md(cell):
    src = cell.source.strip()
    if cell.cell_type == 'markdown': return src
    if not src or re.match(r'#\|\s*(hide|export)', src): return ''
    code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|'))
    outs = [o.get('text', '') if isinstance(o.get('text', ''), str) else ''.join(o['text'])
            for o in cell.get('outputs', []) if o.get('output_type') == 'stream']
    return f"```python\n{code}\n```" + ''.join(f"\n\n```\n{o.rstrip()}\n```" for o in outs if o.strip())

def readme(nb_path='nbs/index.ipynb'):
    nb = read_nb(nb_path)
    body = '\n\n'.join(filter(None, map(cell_md, nb.cells)))
    note = '<!-- Generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file. -->\n\n'
    return note + body.strip() + '\n'

def python_examples(md:str)->list:
    "The ```python blocks of a Markdown text."
    return re.findall(r'^```python\n(.*?)^```', md, re.S | re.M)

FIXTURE = '''
from pathlib import Path
from PIL import Image
from clipcap.config import RELEASED
from clipcap.checkpoints import cache_dir
from clipcap.model import tiny_model
from clipcap.tiny import synthetic_video
for name in RELEASED: tiny_model().save_pretrained(cache_dir() / 'models' / name)
synthetic_video('holiday.mp4')
Path('photos').mkdir()
for i, c in enumerate(['red', 'teal']): Image.new('RGB', (64, 48), c).save(f'photos/{i}.jpg')
'''

def run_examples(md:str)->int:
    "Run the Python examples of `md` in a scratch folder with tiny stand-ins for the files and models they use."
    examples = python_examples(md)
    with tempfile.TemporaryDirectory(prefix='clipcap-readme-') as d:
        env = {**os.environ, 'CLIPCAP_CACHE': str(Path(d) / 'cache'), 'HF_HUB_OFFLINE': '1'}
        f = subprocess.run([sys.executable, '-c', FIXTURE], cwd=d, env=env, capture_output=True, text=True)
        if f.returncode: sys.exit(f'Could not lay out the README examples\' files:\n{f.stderr[-3000:]}')
        r = subprocess.run([sys.executable, '-c', '\n'.join(examples)], cwd=d, env=env, capture_output=True, text=True)
        if r.returncode:
            print('The README\'s Python examples failed:\n' + '\n'.join(examples) + '\n' + r.stderr[-3000:], file=sys.stderr)
            return 1
    print(f'README: {len(examples)} Python example(s) ran')
    return 0

if __name__ == '__main__':
    text = readme()
    if '--check' in sys.argv:
        if Path('README.md').read_text() != text: sys.exit('README.md is out of date: run python .ci/readme.py')
        sys.exit(run_examples(text))
    else: Path('README.md').write_text(text)
