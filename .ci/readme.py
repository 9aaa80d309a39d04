"""Write README.md from nbs/index.ipynb without Quarto (what `nbdev_readme` does with it).

Usage: python .ci/readme.py [--check]   (--check: exit 1 if README.md is out of date)
"""
import re, sys
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

if __name__ == '__main__':
    text = readme()
    if '--check' in sys.argv:
        if Path('README.md').read_text() != text: sys.exit('README.md is out of date: run python .ci/readme.py')
    else: Path('README.md').write_text(text)
